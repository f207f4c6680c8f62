// Package names turns Go and event names into the identifiers projgen
// generates: Go idents, SQL idents, method names.
//
// Every function is pure: the package holds no state, and the word tables
// are switch statements, so it is safe for concurrent use.
package names

import (
	"go/token"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Words splits an identifier into words. It understands CamelCase,
// initialisms, digits, snake_case, kebab-case, dots and spaces.
//
// Any rune that is neither a letter nor a digit separates words and is
// dropped ("todolist:item_added" → [todolist item added]). Inside a run of
// letters and digits a new word starts at a lower-case letter or digit
// followed by an upper-case letter ("userID" → [user ID], "OAuth2Token" →
// [O Auth2 Token]) and at the last upper-case letter of an upper-case run
// that is followed by a lower-case letter ("HTTPServer" → [HTTP Server]).
// An upper-case run followed by a lone "s" keeps the "s", so plural
// initialisms stay whole ("userIDs" → [user IDs]). Digits stay with the
// letters before them ("V1_ORDER" → [V1 ORDER]). Words("") is nil.
func Words(s string) []string {
	runes := []rune(s)
	var words []string
	start := -1
	for i, r := range runes {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			if start >= 0 {
				words = append(words, string(runes[start:i]))
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
			continue
		}
		if wordBoundary(runes, i) {
			words = append(words, string(runes[start:i]))
			start = i
		}
	}
	if start >= 0 {
		words = append(words, string(runes[start:]))
	}
	return words
}

// wordBoundary reports whether a new word starts at runes[i]; runes[i-1] and
// runes[i] are both letters or digits.
func wordBoundary(runes []rune, i int) bool {
	prev, cur := runes[i-1], runes[i]
	if !unicode.IsUpper(cur) {
		return false
	}
	if unicode.IsLower(prev) || unicode.IsDigit(prev) {
		return true
	}
	if !unicode.IsUpper(prev) || i+1 >= len(runes) || !unicode.IsLower(runes[i+1]) {
		return false
	}
	// "IDs", "URLsAdded": the "s" pluralises the upper-case run.
	if runes[i+1] == 's' && (i+2 == len(runes) || !unicode.IsLower(runes[i+2])) {
		return false
	}
	return true
}

// isInitialism reports whether word, in any case, is one of the common
// initialisms that Go style writes in a single case ("id", "Url", "HTTP").
// The list is the one golint and staticcheck use.
func isInitialism(word string) bool {
	switch strings.ToUpper(word) {
	case "ACL", "API", "ASCII", "CPU", "CSS", "DB", "DNS", "EOF", "GUID",
		"HTML", "HTTP", "HTTPS", "ID", "IP", "JSON", "LHS", "QPS", "RAM",
		"RHS", "RPC", "SLA", "SMTP", "SQL", "SSH", "TCP", "TLS", "TTL",
		"UDP", "UI", "UID", "UUID", "URI", "URL", "UTF8", "VM", "XML",
		"XMPP", "XSRF", "XSS":
		return true
	}
	return false
}

// initialismRun reports whether the lower-case word w is two or more
// initialisms run together ("xmlhttp", "cpuid").
func initialismRun(w string) bool {
	// ok[i] reports whether w[:i] splits into initialisms.
	ok := make([]bool, len(w)+1)
	ok[0] = true
	for i := 1; i <= len(w); i++ {
		for l := 2; l <= 5 && l <= i; l++ {
			if ok[i-l] && isInitialism(w[i-l:i]) {
				ok[i] = true
				break
			}
		}
	}
	return w != "" && ok[len(w)]
}

// exportWord writes one word in exported Go style: an initialism, or a run
// of initialisms, upper-case ("id" → "ID", "XMLHTTP" → "XMLHTTP"), a plural
// initialism as the initialism + "s" ("ids" → "IDs"), any other word with a
// capital first letter and the rest in lower case ("ORDER" → "Order").
func exportWord(w string) string {
	lw := strings.ToLower(w)
	if isInitialism(lw) || initialismRun(lw) {
		return strings.ToUpper(lw)
	}
	if stem, ok := strings.CutSuffix(lw, "s"); ok && isInitialism(stem) {
		return strings.ToUpper(stem) + "s"
	}
	return upperFirst(lw)
}

// upperFirst returns s with its first rune in upper case.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// startsWithLetter reports whether s begins with a letter, that is whether a
// string made only of letters and digits is a Go identifier.
func startsWithLetter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && unicode.IsLetter(r)
}

// Exported returns s as an exported Go identifier in Go style: initialisms
// upper-cased (ID, URL, HTTP).
//
// The words of s (see Words) are each written with a capital first letter
// and joined: Exported("installation_id") is "InstallationID",
// Exported("api_key") is "APIKey", Exported("ids") is "IDs". The result is a
// valid Go identifier, or "" when s has no words or its first word starts
// with a digit ("2fa_enabled"), so callers that accept arbitrary input check
// the result with IsIdent.
func Exported(s string) string {
	var b strings.Builder
	for _, w := range Words(s) {
		b.WriteString(exportWord(w))
	}
	out := b.String()
	if !startsWithLetter(out) {
		return ""
	}
	return out
}

// Unexported returns s as an unexported Go identifier in Go style
// ("InstallationID" → "installationID", "ID" → "id", "URLPath" → "urlPath").
//
// The first word is written in lower case, even an initialism ("IDs" →
// "ids", "HTTPServer" → "httpServer"), the others as in Exported. The result
// is "" when s has no words or its first word starts with a digit. It can be
// a Go keyword (Unexported("Type") is "type"), so callers check the result
// with IsIdent, or use Param, which makes it safe.
func Unexported(s string) string {
	words := Words(s)
	if len(words) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(words[0]))
	for _, w := range words[1:] {
		b.WriteString(exportWord(w))
	}
	out := b.String()
	if !startsWithLetter(out) {
		return ""
	}
	return out
}

// Snake returns s in snake_case, the form projgen uses for SQL identifiers,
// table names and file names ("InstallationID" → "installation_id",
// "HTTPServer" → "http_server").
//
// It is the words of s (see Words) in lower case joined by "_"; Snake("") is
// "".
func Snake(s string) string {
	words := Words(s)
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	return strings.Join(words, "_")
}

// Plural returns the plural of a snake_case name by pluralising its last word
// ("installation" → "installations", "github_repository" →
// "github_repositories").
//
// The last word, taken as it comes after the last "_", follows these rules
// in order: a small irregular table (person → people, child → children,
// man → men, woman → women, datum → data, index → indexes, criterion →
// criteria, quiz → quizzes; epoch, stomach, monarch and tech just take "s");
// words that are already plural or uncountable stay (anything ending in
// data, news, series, species, people, children, women, ware, media,
// criteria, information, equipment or feedback, and the word men); "sis" →
// "ses" (analysis → analyses); consonant + "y" → "ies", vowel + "y" → "ys";
// "s", "x", "z", "ch", "sh" → + "es"; anything else + "s". Plural("") is "",
// and a name ending in "_" is returned unchanged.
func Plural(snake string) string {
	i := strings.LastIndexByte(snake, '_')
	prefix, last := snake[:i+1], snake[i+1:]
	if last == "" {
		return snake
	}
	return prefix + pluralWord(last)
}

// pluralWord returns the plural of one lower-case word.
func pluralWord(w string) string {
	switch w {
	case "person":
		return "people"
	case "child":
		return "children"
	case "man":
		return "men"
	case "woman":
		return "women"
	case "datum":
		return "data"
	case "index":
		return "indexes"
	case "analysis":
		return "analyses"
	case "criterion":
		return "criteria"
	case "quiz":
		return "quizzes"
	case "epoch", "stomach", "monarch", "tech":
		return w + "s"
	case "men", "information", "equipment", "feedback":
		return w
	}
	for _, suffix := range [...]string{"data", "news", "series", "species", "people", "children", "women", "ware", "media", "criteria"} {
		if strings.HasSuffix(w, suffix) {
			return w
		}
	}
	n := len(w)
	switch {
	case strings.HasSuffix(w, "sis"):
		return w[:n-2] + "es"
	case strings.HasSuffix(w, "y") && n >= 2 && !isVowel(w[n-2]):
		return w[:n-1] + "ies"
	case strings.HasSuffix(w, "s"), strings.HasSuffix(w, "x"), strings.HasSuffix(w, "z"),
		strings.HasSuffix(w, "ch"), strings.HasSuffix(w, "sh"):
		return w + "es"
	}
	return w + "s"
}

// isVowel reports whether c is one of the lower-case vowels a, e, i, o, u.
func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

// IsIdent reports whether s is a valid Go identifier that is not a Go
// keyword.
func IsIdent(s string) bool {
	return token.IsIdentifier(s)
}

// IsGoKeyword reports whether s is one of Go's 25 keywords.
func IsGoKeyword(s string) bool {
	return token.IsKeyword(s)
}

// IsPredeclared reports whether s is a predeclared Go identifier (types,
// constants, zero value nil, builtin functions such as len, new, min, max,
// clear).
func IsPredeclared(s string) bool {
	switch s {
	// Types.
	case "any", "bool", "byte", "comparable", "complex64", "complex128",
		"error", "float32", "float64", "int", "int8", "int16", "int32",
		"int64", "rune", "string", "uint", "uint8", "uint16", "uint32",
		"uint64", "uintptr":
		return true
	// Constants and the zero value.
	case "true", "false", "iota", "nil":
		return true
	// Functions.
	case "append", "cap", "clear", "close", "complex", "copy", "delete",
		"imag", "len", "make", "max", "min", "new", "panic", "print",
		"println", "real", "recover":
		return true
	}
	return false
}

// Param returns a parameter name for a Go field name: Unexported(field), made
// safe. A Go keyword gets a short conventional replacement ("type" → "typ",
// "func" → "fn", "range" → "rng", "default" → "def", "package" → "pkg",
// "interface" → "iface", "select" → "sel", "chan" → "ch", "map" → "m", "go"
// → "goValue", otherwise the keyword + "Value"); a name in reserved (for
// example "ctx", "meta", or an imported package name such as "time", "uuid",
// "projection") gets the suffix "Value" ("meta" → "metaValue").
//
// A predeclared identifier (see IsPredeclared) also gets the suffix "Value"
// ("Len" → "lenValue", "Error" → "errorValue"), so that generated code can
// still use the builtin. The suffix is added again while the name is in
// reserved, and a field with no usable words ("_", "2fa") becomes "value".
// The result always satisfies IsIdent. reserved may be nil.
func Param(field string, reserved map[string]bool) string {
	p := Unexported(field)
	switch {
	case p == "":
		p = "value"
	case IsGoKeyword(p):
		p = keywordParam(p)
	case IsPredeclared(p):
		p += "Value"
	}
	for reserved[p] {
		p += "Value"
	}
	return p
}

// keywordParam returns the parameter name used for the Go keyword kw.
func keywordParam(kw string) string {
	switch kw {
	case "type":
		return "typ"
	case "func":
		return "fn"
	case "range":
		return "rng"
	case "default":
		return "def"
	case "package":
		return "pkg"
	case "interface":
		return "iface"
	case "select":
		return "sel"
	case "chan":
		return "ch"
	case "map":
		return "m"
	}
	return kw + "Value"
}

// SQLIdent quotes a PostgreSQL identifier: it doubles any embedded double
// quote and wraps the result in double quotes, always (projgen quotes every
// identifier, so keywords such as "order" or "user" are safe).
func SQLIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// IsSQLReserved reports whether name (lower case) is a reserved key word in
// PostgreSQL 15 (the words marked "reserved" or "reserved (can be function or
// type)" in the PostgreSQL 15 key-word appendix, e.g. all, analyse, analyze,
// and, any, array, as, asc, asymmetric, authorization, binary, both, case,
// cast, check, collate, collation, column, concurrently, constraint, create,
// cross, current_catalog, current_date, current_role, current_schema,
// current_time, current_timestamp, current_user, default, deferrable, desc,
// distinct, do, else, end, except, false, fetch, for, foreign, freeze, from,
// full, grant, group, having, ilike, in, initially, inner, intersect, into,
// is, isnull, join, lateral, leading, left, like, limit, localtime,
// localtimestamp, natural, not, notnull, null, offset, on, only, or, order,
// outer, overlaps, placing, primary, references, returning, right, select,
// session_user, similar, some, symmetric, system_user, table, tablesample,
// then, to, trailing, true, union, unique, user, using, variadic, verbose,
// when, where, window, with). It is used in messages and tests, not for
// quoting.
//
// system_user became reserved in PostgreSQL 16; it is included so that the
// check also holds for newer servers.
func IsSQLReserved(name string) bool {
	switch name {
	case "all", "analyse", "analyze", "and", "any", "array", "as", "asc",
		"asymmetric", "authorization", "binary", "both", "case", "cast",
		"check", "collate", "collation", "column", "concurrently",
		"constraint", "create", "cross", "current_catalog", "current_date",
		"current_role", "current_schema", "current_time",
		"current_timestamp", "current_user", "default", "deferrable", "desc",
		"distinct", "do", "else", "end", "except", "false", "fetch", "for",
		"foreign", "freeze", "from", "full", "grant", "group", "having",
		"ilike", "in", "initially", "inner", "intersect", "into", "is",
		"isnull", "join", "lateral", "leading", "left", "like", "limit",
		"localtime", "localtimestamp", "natural", "not", "notnull", "null",
		"offset", "on", "only", "or", "order", "outer", "overlaps",
		"placing", "primary", "references", "returning", "right", "select",
		"session_user", "similar", "some", "symmetric", "system_user",
		"table", "tablesample", "then", "to", "trailing", "true", "union",
		"unique", "user", "using", "variadic", "verbose", "when", "where",
		"window", "with":
		return true
	}
	return false
}
