package reports_test

func helperServe() {}
