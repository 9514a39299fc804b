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
