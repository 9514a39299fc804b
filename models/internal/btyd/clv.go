package btyd

import "math"

// CLV returns the discounted expected value of a customer's future
// transactions over steps periods of length stepLen (in the BG/NBD time
// unit), discounting by discountPerStep per period:
//
//	Σ_{k=1..steps} E(Z|x,zbar) · (E[Y(k·stepLen)] − E[Y((k−1)·stepLen)]) / (1+d)^k
//
// where E[Y(t)] = bg.ExpectedPurchases(t, x, tx, T). This is the sum lifetimes'
// customer_lifetime_value computes; with its defaults (time=12, freq="D")
// it is steps = 12, stepLen = 30 in the data's unit.
func CLV(bg BGNBD, gg GammaGamma, x, tx, T, zbar float64, steps int, stepLen float64, discountPerStep float64) float64 {
	value := gg.ExpectedAvgValue(x, zbar)
	var sum, prev float64
	for k := 1; k <= steps; k++ {
		cur := bg.ExpectedPurchases(float64(k)*stepLen, x, tx, T)
		sum += value * (cur - prev) / math.Pow(1+discountPerStep, float64(k))
		prev = cur
	}
	return sum
}

// ExpectedPurchasesIfAlive returns E[Y(t) | alive at T, x, T]: the expected
// number of transactions in the next t time units of a customer with x repeat
// transactions and age T who is still alive. It does not depend on t_x, which
// enters the conditional expectation only through P(alive):
//
//	E[Y(t) | x, t_x, T] = PAlive(x, t_x, T) · ExpectedPurchasesIfAlive(t, x, T)
//
// (Fader, Hardie & Lee 2005, eq. 10: its numerator). Forecasts for many
// customers therefore need the hypergeometric series only once per distinct
// (x, T), not per (x, t_x, T). It returns NaN where ExpectedPurchases does.
func (m BGNBD) ExpectedPurchasesIfAlive(t, x, T float64) float64 {
	if t == 0 {
		return 0
	}
	if !(t > 0) {
		return math.NaN()
	}
	return m.unconditionalPart(t, x, T)
}

// DiscountedPurchasesIfAlive returns the discounted expected number of
// transactions over steps periods of length stepLen of a customer with x
// repeat transactions and age T who is still alive, and the undiscounted
// expected number over the whole horizon steps·stepLen:
//
//	disc  = Σ_{k=1..steps} (E_k − E_{k−1}) / (1+d)^k,  E_k = ExpectedPurchasesIfAlive(k·stepLen, x, T)
//	total = E_steps
//
// so that CLV(bg, gg, x, tx, T, zbar, steps, stepLen, d) =
// gg.ExpectedAvgValue(x, zbar) · bg.PAlive(x, tx, T) · disc.
func (m BGNBD) DiscountedPurchasesIfAlive(x, T float64, steps int, stepLen, discountPerStep float64) (disc, total float64) {
	var prev float64
	f := 1.0
	for k := 1; k <= steps; k++ {
		cur := m.ExpectedPurchasesIfAlive(float64(k)*stepLen, x, T)
		f *= 1 + discountPerStep
		disc += (cur - prev) / f
		prev = cur
	}
	return disc, prev
}
