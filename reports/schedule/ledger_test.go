package schedule

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestMigrateIsIdempotent(t *testing.T) {
	db, _ := openLedger(t, "")
	for range 2 {
		if err := Migrate(context.Background(), db); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(statements(Schema)); n != 3 {
		t.Errorf("%d statements", n)
	}
}

// TestClaimIsUniqueUnderConcurrency: 16 goroutines claim each of 20 fire
// times at once through the pool; each fire time is won exactly once and
// every loser gets ErrClaimed (no other error).
func TestClaimIsUniqueUnderConcurrency(t *testing.T) {
	_, l := openLedger(t, "")
	ctx := context.Background()
	base := sh(2, 8, 0, 0)
	for f := range 20 {
		fire := base.Add(time.Duration(f) * time.Hour)
		var wins, lost int
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 16 {
			wg.Go(func() {
				<-start
				_, err := l.Claim(ctx, Claim{ScheduleID: "pack", FireTime: fire, Trigger: TriggerCron, Owner: fmt.Sprint("g", g), At: fire})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, ErrClaimed):
					lost++
				default:
					t.Errorf("claim: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins != 1 || lost != 15 {
			t.Fatalf("fire time %v: %d claims won, %d lost", fire, wins, lost)
		}
	}
	runs, err := l.History(ctx, "pack", 0)
	if err != nil || len(runs) != 20 {
		t.Fatalf("%d runs, %v", len(runs), err)
	}
	if runs[0].FireTime.UTC() != base.Add(19*time.Hour).UTC() || runs[0].Status != StatusQueued || runs[0].Attempt != 1 {
		t.Errorf("newest run %+v", runs[0])
	}
}

func TestLedgerWithTx(t *testing.T) {
	db, l := openLedger(t, "")
	ctx := context.Background()
	fire := sh(2, 8, 0, 0)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.WithTx(tx).Claim(ctx, Claim{ScheduleID: "pack", FireTime: fire, Trigger: TriggerCron, Owner: "me", At: fire}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if _, err := l.Claim(ctx, Claim{ScheduleID: "pack", FireTime: fire, Trigger: TriggerCron, Owner: "me", At: fire}); err != nil {
		t.Fatalf("after rollback the fire time is free: %v", err)
	}
	tx, _ = db.BeginTx(ctx, nil)
	_, err = l.WithTx(tx).Claim(ctx, Claim{ScheduleID: "pack", FireTime: fire, Trigger: TriggerCron, Owner: "me", At: fire})
	tx.Rollback()
	if !errors.Is(err, ErrClaimed) {
		t.Errorf("claimed twice inside a transaction: %v", err)
	}
}

func TestDeliverRecordsBeforeAndAfter(t *testing.T) {
	_, l := openLedger(t, "")
	ctx := context.Background()
	run, err := l.Claim(ctx, Claim{ScheduleID: "pack", FireTime: sh(2, 8, 0, 0), Trigger: TriggerCron, Owner: "me", At: sh(2, 8, 0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if run.ID != "pack@20260302T000000Z" {
		t.Errorf("run id %q", run.ID)
	}
	var keys []string
	var sawPending bool
	send := func(fail bool) SendFunc {
		return func(ctx context.Context, key string) (string, int, error) {
			keys = append(keys, key)
			d, _ := l.Deliveries(ctx, run.ID)
			sawPending = len(d) == 1 && d[0].Status == DeliveryPending
			if fail {
				return "", 3, errors.New("smtp: 451 try later")
			}
			return "<" + key + "@example.com>", 1, nil
		}
	}
	d, err := l.Deliver(ctx, run.ID, "east", "mail", send(true))
	if err == nil || d.Status != DeliveryFailed || d.Attempts != 3 || d.Error == "" || !sawPending {
		t.Fatalf("failed delivery %+v %v (pending before send: %v)", d, err, sawPending)
	}
	d, err = l.Deliver(ctx, run.ID, "east", "mail", send(false))
	if err != nil || d.Status != DeliverySent || d.Attempts != 4 || d.AlreadySent {
		t.Fatalf("retried delivery %+v %v", d, err)
	}
	d, err = l.Deliver(ctx, run.ID, "east", "mail", func(context.Context, string) (string, int, error) {
		t.Error("sent again a delivery recorded as sent")
		return "", 0, nil
	})
	if err != nil || !d.AlreadySent {
		t.Errorf("third call %+v %v", d, err)
	}
	if len(keys) != 2 || keys[0] != keys[1] || keys[0] != DeliveryKey(run.ID, "east", "mail") || len(keys[0]) != 26 {
		t.Errorf("keys %q", keys)
	}
	if DeliveryKey(run.ID, "east", "wecom") == keys[0] || DeliveryKey(run.ID, "west", "mail") == keys[0] {
		t.Error("keys collide across channel or recipient")
	}
}
