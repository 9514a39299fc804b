-- The search box of every page ($q): customers, deals, contracts and reps in
-- the user's scope whose name or number holds $q (case-insensitive; an
-- exact number first, then names and numbers starting with it, then the
-- rest), at most 20. kind: customer, deal, contract or rep; target: the
-- customer of a contract (whose page lists it). $pinyin_ids: customers and
-- reps whose Chinese name's pinyin starts with $q (zfq, zhangfeiqi), from the
-- index in query/pinyin.go; NULL when $q is not such a word.
WITH q AS (SELECT lower(trim($q)) AS q),
pinyin AS (SELECT unnest(coalesce($pinyin_ids, []::VARCHAR[])) AS id),
hits AS (
    SELECT 'customer' AS kind, c.customer_id AS id, c.customer_name AS label, c.city AS sub, c.customer_id AS num, c.customer_name AS name, NULL AS target
    FROM scoped.customer_facts($scope_all, $scope_org, $scope_rep) c, q
    WHERE contains(lower(c.customer_name), q.q) OR contains(lower(c.customer_id), q.q)
       OR c.customer_id IN (SELECT id FROM pinyin)
    UNION ALL
    SELECT 'deal', o.opportunity_id, o.customer_name, o.stage, o.opportunity_id, o.customer_name, NULL
    FROM scoped.opportunity_facts($scope_all, $scope_org, $scope_rep) o, q
    WHERE contains(lower(o.opportunity_id), q.q)
    UNION ALL
    SELECT 'contract', k.contract_id, k.customer_name, CAST(k.signed_on AS VARCHAR), k.contract_id, k.customer_name, k.customer_id
    FROM scoped.contract_facts($scope_all, $scope_org, $scope_rep) k, q
    WHERE contains(lower(k.contract_id), q.q)
    UNION ALL
    SELECT 'rep', r.rep_id, r.name, u.name, r.rep_id, r.name, NULL
    FROM live.reps r LEFT JOIN live.org_units u ON u.org_unit_id = r.org_unit_id, q
    WHERE scoped.sees(r.rep_id, r.org_unit_id, $scope_all, $scope_org, $scope_rep)
      AND (contains(lower(r.name), q.q) OR contains(lower(r.rep_id), q.q) OR r.rep_id IN (SELECT id FROM pinyin))
)
SELECT h.kind, h.id, h.label, h.sub, h.target
FROM hits h, q
ORDER BY CASE WHEN lower(h.num) = q.q THEN 0
              WHEN starts_with(lower(h.name), q.q) OR starts_with(lower(h.num), q.q)
                OR h.id IN (SELECT id FROM pinyin) THEN 1
              WHEN ends_with(lower(h.num), q.q) THEN 2 ELSE 3 END,
         CASE h.kind WHEN 'customer' THEN 0 WHEN 'rep' THEN 1 WHEN 'deal' THEN 2 ELSE 3 END,
         length(h.label), h.id
LIMIT 20
