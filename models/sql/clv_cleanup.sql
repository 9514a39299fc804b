-- CLV model, last step: drop the working tables.
DROP TABLE IF EXISTS clv_summary;
DROP TABLE IF EXISTS clv_groups;
DROP TABLE IF EXISTS clv_forecast;
