-- A customer's settlement plan ($customer; without one, the installments in
-- the user's scope due in the period): each installment of its contracts, the
-- part already covered by payments (oldest first) and its state: paid, overdue,
-- due within 7 days, due this month, scheduled (later), or cancelled with the
-- contract. Amounts at the contract's booking rate (base currency). What needs
-- chasing first, then what is to come, then what was paid (latest first).
SELECT s.contract_id || '|' || strftime(s.due_on, '%Y-%m-%d') AS installment_id,
       s.contract_id, c.customer_name, s.due_on,
       CAST(s.amount * (c.amount_base / nullif(c.amount, 0)) AS DECIMAL(18,2)) AS amount_due_base,
       CAST(CASE WHEN d.contract_id IS NOT NULL THEN d.amount_paid
                 WHEN s.due_on <= CAST($as_of AS DATE) AND c.status NOT IN ('cancelled', 'terminated')
                 THEN s.amount * (c.amount_base / nullif(c.amount, 0)) END AS DECIMAL(18,2)) AS amount_paid_base,
       CASE WHEN c.status IN ('cancelled', 'terminated') THEN 'cancelled'
            WHEN d.contract_id IS NOT NULL THEN d.status
            WHEN s.due_on <= CAST($as_of AS DATE) THEN 'paid'
            ELSE 'scheduled' END AS state,
       date_diff('day', CAST($as_of AS DATE), s.due_on) AS days_until_due
FROM scoped.payment_schedule($scope_all, $scope_org, $scope_rep, one_customer := $customer) s
JOIN scoped.contract_facts($scope_all, $scope_org, $scope_rep, one_customer := $customer) c ON c.contract_id = s.contract_id
LEFT JOIN scoped.mart_settlements_due($scope_all, $scope_org, $scope_rep, one_customer := $customer) d ON d.contract_id = s.contract_id AND d.due_on = s.due_on
WHERE ($customer IS NULL OR c.customer_id = $customer)
  AND ($customer IS NOT NULL OR s.due_on BETWEEN CAST($from AS DATE) AND CAST($to AS DATE))
ORDER BY CASE state WHEN 'overdue' THEN 1 WHEN 'due_7d' THEN 2 WHEN 'due_this_month' THEN 3 WHEN 'scheduled' THEN 4
                   WHEN 'paid' THEN 5 ELSE 6 END,
         CASE WHEN state IN ('paid', 'cancelled') THEN -epoch(s.due_on) ELSE epoch(s.due_on) END, s.contract_id
