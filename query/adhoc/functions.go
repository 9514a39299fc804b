package adhoc

import "strings"

// The function allowlist: what analysts need, listed by hand (deny by
// default). A name missing here is refused with its name in the message;
// adding one is a reviewed change (TestAllowedFunctionsExist checks every
// name against duckdb_functions(), TestDeniedNeverAllowed the denylist).
//
// Left out on purpose: anything that reads files or runs a string (read_*,
// glob, query, query_table, json_execute_serialized_sql, sniff_csv,
// parquet_*), the catalog and the session (duckdb_*, pragma_*, pg_*,
// current_setting, current_query, current_database, current_schema(s),
// current_user, in_search_path, version, txid_current, getvariable),
// sequences (nextval, currval), state changes (setseed, checkpoint,
// enable_logging, write_log), storage statistics (stats: min/max of the
// whole column, out-of-scope rows included), sleep_ms, error,
// json_serialize_sql and its kin, enum_range (an ENUM's whole domain),
// internal and aggregate-state functions (__internal_*, finalize, combine,
// export_state), variant_*, st_* and type-level functions (make_type,
// cast_to_type, replace_type, get_type).
var allowedFunctions = set(
	// operators (the parser names them as functions)
	"+", "-", "*", "/", "//", "%", "**", "^", "&", "|", "~", "<<", ">>", "||", "@",
	"~~", "!~~", "~~*", "!~~*", "~~~", "^@", "->>", "<->", "<=>", "<@", "@>", "&&", "!__postfix",
	"add", "subtract", "multiply", "divide", "mod", "fdiv", "fmod", "xor",
	// conditional and generic
	"coalesce", "ifnull", "nullif", "greatest", "least", "typeof", "hash", "alias",
	// numeric
	"abs", "ceil", "ceiling", "floor", "round", "round_even", "roundbankers", "trunc", "sign", "signbit",
	"sqrt", "cbrt", "exp", "ln", "log", "log2", "log10", "pow", "power", "pi", "degrees", "radians",
	"sin", "cos", "tan", "asin", "acos", "atan", "atan2", "cot", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
	"gcd", "lcm", "greatest_common_divisor", "least_common_multiple", "factorial", "even", "isnan", "isinf", "isfinite",
	"nextafter", "gamma", "lgamma", "bit_count", "random", "equi_width_bins",
	// strings
	"length", "len", "char_length", "character_length", "strlen", "octet_length", "bit_length",
	"lower", "upper", "lcase", "ucase", "concat", "concat_ws", "substring", "substr", "substring_grapheme",
	"left", "right", "left_grapheme", "right_grapheme", "length_grapheme", "trim", "ltrim", "rtrim",
	"replace", "reverse", "position", "strpos", "instr", "contains", "starts_with", "ends_with", "prefix", "suffix",
	"split_part", "string_split", "str_split", "split", "string_split_regex", "str_split_regex", "string_to_array",
	"lpad", "rpad", "repeat", "ascii", "chr", "unicode", "ord", "format", "printf", "translate",
	"like_escape", "not_like_escape", "ilike_escape", "not_ilike_escape", "nfc_normalize", "strip_accents",
	"md5", "md5_number", "md5_number_lower", "md5_number_upper", "sha1", "sha256",
	"levenshtein", "editdist3", "damerau_levenshtein", "hamming", "mismatches", "jaccard", "jaro_similarity", "jaro_winkler_similarity",
	"regexp_matches", "regexp_replace", "regexp_extract", "regexp_extract_all", "regexp_full_match",
	"regexp_split_to_array", "regexp_split_to_table", "regexp_escape",
	"format_bytes", "formatreadablesize", "formatreadabledecimalsize", "parse_formatted_bytes", "bar",
	"to_base", "bin", "hex", "unhex", "unbin", "to_hex", "from_hex", "to_binary", "from_binary",
	"to_base64", "from_base64", "base64", "encode", "decode", "url_encode", "url_decode", "icu_sort_key",
	"uuid", "gen_random_uuid", "uuidv4", "uuidv7", "uuid_extract_timestamp", "uuid_extract_version",
	// dates and times
	"current_date", "today", "now", "get_current_timestamp", "get_current_time", "transaction_timestamp",
	"current_localtime", "current_localtimestamp",
	"date_part", "datepart", "date_trunc", "datetrunc", "date_diff", "datediff", "date_sub", "datesub", "date_add",
	"age", "ago", "last_day", "days_in_month", "dayname", "monthname", "strftime", "strptime", "try_strptime",
	"make_date", "make_time", "make_timestamp", "make_timestamp_ms", "make_timestamp_ns", "make_timestamptz",
	"year", "month", "day", "quarter", "week", "weekofyear", "yearweek", "weekday", "isodow", "isoyear",
	"dayofweek", "dayofyear", "dayofmonth", "hour", "minute", "second", "millisecond", "microsecond", "nanosecond",
	"century", "decade", "millennium", "era", "julian", "epoch", "epoch_ms", "epoch_us", "epoch_ns",
	"to_timestamp", "time_bucket", "timezone", "timezone_hour", "timezone_minute", "normalized_interval",
	"to_centuries", "to_decades", "to_millennia", "to_years", "to_quarters", "to_months", "to_weeks", "to_days",
	"to_hours", "to_minutes", "to_seconds", "to_milliseconds", "to_microseconds",
	// lists, arrays, structs, maps, unions
	"list_value", "list_pack", "array_value", "list_extract", "list_element", "array_extract", "list_slice", "array_slice",
	"list_contains", "list_has", "array_contains", "array_has", "list_position", "list_indexof", "array_position", "array_indexof",
	"list_has_any", "list_has_all", "array_has_any", "array_has_all", "list_intersect", "array_intersect",
	"list_sort", "list_reverse_sort", "array_sort", "array_reverse_sort", "list_grade_up", "array_grade_up", "grade_up",
	"list_distinct", "array_distinct", "list_unique", "array_unique", "list_reverse", "array_reverse",
	"list_aggregate", "list_aggr", "array_aggregate", "array_aggr", "aggregate",
	"list_transform", "array_transform", "apply", "list_apply", "array_apply",
	"list_filter", "array_filter", "filter", "list_reduce", "array_reduce", "reduce",
	"list_concat", "list_cat", "array_concat", "array_cat", "list_append", "array_append", "array_push_back",
	"list_prepend", "array_prepend", "array_push_front", "array_pop_back", "array_pop_front",
	"list_where", "array_where", "list_select", "array_select", "list_zip", "array_zip", "list_resize", "array_resize",
	"flatten", "array_length", "cardinality", "array_to_string", "array_to_string_comma_default", "unnest", "generate_subscripts",
	"list_sum", "list_avg", "list_min", "list_max", "list_count", "list_first", "list_last", "list_median", "list_mode",
	"list_product", "list_string_agg", "list_any_value", "list_bool_and", "list_bool_or", "list_stddev_samp", "list_stddev_pop",
	"list_var_samp", "list_var_pop", "list_histogram", "list_approx_count_distinct", "list_entropy", "list_kurtosis",
	"list_kurtosis_pop", "list_mad", "list_sem", "list_skewness", "list_bit_and", "list_bit_or", "list_bit_xor",
	"list_dot_product", "list_inner_product", "list_cosine_similarity", "list_cosine_distance", "list_distance",
	"array_dot_product", "array_inner_product", "array_cosine_similarity", "array_cosine_distance", "array_distance", "array_cross_product",
	"range", "generate_series",
	"struct_pack", "row", "struct_extract", "struct_extract_at", "struct_insert", "struct_update", "struct_concat",
	"struct_keys", "struct_values", "struct_has", "struct_contains", "struct_position", "struct_indexof",
	"map", "map_from_entries", "map_keys", "map_values", "map_entries", "map_extract", "map_extract_value", "element_at",
	"map_contains", "map_contains_entry", "map_contains_value", "map_concat",
	"union_value", "union_extract", "union_tag",
	// JSON values (not files)
	"json", "to_json", "json_quote", "array_to_json", "row_to_json", "json_array", "json_object", "json_merge_patch",
	"json_extract", "json_extract_string", "json_extract_path", "json_extract_path_text", "json_value", "json_exists",
	"json_keys", "json_array_length", "json_type", "json_valid", "json_contains", "json_structure", "json_transform",
	"json_transform_strict", "from_json", "from_json_strict", "json_pretty",
	"json_group_array", "json_group_object", "json_group_structure",
	// aggregates
	"count", "count_star", "sum", "avg", "mean", "min", "max", "median", "mode", "quantile", "quantile_cont",
	"quantile_disc", "approx_quantile", "reservoir_quantile", "approx_count_distinct", "approx_top_k",
	"stddev", "stddev_pop", "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp",
	"regr_avgx", "regr_avgy", "regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy",
	"first", "last", "any_value", "arbitrary", "arg_min", "arg_max", "argmin", "argmax", "min_by", "max_by",
	"arg_min_null", "arg_max_null", "arg_min_nulls_last", "arg_max_nulls_last",
	"string_agg", "group_concat", "listagg", "list", "array_agg", "histogram", "histogram_exact",
	"bool_and", "bool_or", "bit_and", "bit_or", "bit_xor", "product", "fsum", "sumkahan", "kahan_sum", "favg",
	"sum_no_overflow", "entropy", "kurtosis", "kurtosis_pop", "skewness", "mad", "sem", "geomean", "geometric_mean",
	"count_if", "countif", "weighted_avg", "wavg",
	// window functions
	"row_number", "rank", "dense_rank", "rank_dense", "percent_rank", "cume_dist", "ntile",
	"lag", "lead", "first_value", "last_value", "nth_value", "fill",
)

// allowedTableFunctions may appear in FROM.
var allowedTableFunctions = set("range", "generate_series", "unnest", "generate_subscripts", "json_each", "json_tree")

// parserSchemaMain lists what DuckDB's parser itself writes as main.<name>
// (a list literal [1, 2] is main.list_value(1, 2)): allowed with that schema.
var parserSchemaMain = set("list_value", "struct_pack", "row", "map", "array_value", "unnest")

// deniedFunctions must never be allowed (the test checks it): the catalogue
// of what the hardening settings leave open, and what reads or writes
// outside the query.
var deniedFunctions = set(
	"query", "query_table", "read_csv", "read_csv_auto", "read_parquet", "parquet_scan", "read_json", "read_json_auto",
	"read_ndjson", "read_json_objects", "read_text", "read_blob", "read_duckdb", "glob", "sniff_csv",
	"json_execute_serialized_sql", "json_serialize_sql", "json_deserialize_sql", "json_serialize_plan",
	"duckdb_tables", "duckdb_columns", "duckdb_settings", "duckdb_databases", "duckdb_functions", "duckdb_secrets",
	"pragma_storage_info", "pragma_table_info", "pragma_database_size", "pragma_version", "pragma_show",
	"current_setting", "getvariable", "nextval", "currval", "checkpoint", "force_checkpoint", "sql_auto_complete",
	"which_secret", "stats", "setseed", "sleep_ms", "write_log", "error", "current_query", "current_database",
	"current_schema", "current_schemas", "current_user", "session_user", "user", "current_role", "current_catalog",
	"version", "txid_current", "current_transaction_id", "current_connection_id", "current_query_id", "in_search_path",
	"enum_range", "enum_range_boundary", "finalize", "combine", "make_type", "cast_to_type", "replace_type",
	"repeat_row", "seq_scan", "test_all_types", "summary", "enable_logging", "truncate_duckdb_logs", "pg_sleep",
	"pg_get_viewdef", "has_table_privilege", "col_description", "get_block_size",
)

// sizeArgs bounds functions whose constant arguments size their result:
// the position of the argument (0-based) and its largest allowed value.
// Arguments that are not constants are left to the worker's memory limit.
var sizeArgs = map[string][]sizeArg{
	"repeat":          {{1, 1_000_000}},
	"lpad":            {{1, 1_000_000}},
	"rpad":            {{1, 1_000_000}},
	"list_resize":     {{1, 1_000_000}},
	"array_resize":    {{1, 1_000_000}},
	"bar":             {{3, 10_000}},
	"range":           {{0, 0}}, // the list forms: checked as a span below
	"generate_series": {{0, 0}},
}

type sizeArg struct {
	index int
	max   float64
}

// maxListSpan bounds range()/generate_series() used as scalar (list)
// functions with constant bounds; as table functions they stream and the
// row cap and time limit bound them.
const maxListSpan = 10_000_000

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}
