// Package sqlc holds nothing: the module pins sqlc as a tool for
// projgen's TestSqlcParsesTheSchemas.
package sqlc
