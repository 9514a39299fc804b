package models

func init() {
	register(20, sqlModel("rfm", "rfm.sql", []string{"payments"}, []string{"mart_rfm"}))
}
