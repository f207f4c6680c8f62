package names

import (
	"go/token"
	"go/types"
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"_", nil},
		{"  ", nil},
		{"InstallationID", []string{"Installation", "ID"}},
		{"HTTPServer", []string{"HTTP", "Server"}},
		{"V1_ORDER_CREATED", []string{"V1", "ORDER", "CREATED"}},
		{"repository_added", []string{"repository", "added"}},
		{"userIDs", []string{"user", "IDs"}},
		{"IDs", []string{"IDs"}},
		{"URLsAdded", []string{"URLs", "Added"}},
		{"OAuth2Token", []string{"O", "Auth2", "Token"}},
		{"todolist:item_added", []string{"todolist", "item", "added"}},
		{"GetURLPath", []string{"Get", "URL", "Path"}},
		{"IPv4Address", []string{"I", "Pv4", "Address"}},
		{"installation", []string{"installation"}},
		{"Created", []string{"Created"}},
		{"ID", []string{"ID"}},
		{"kebab-case-name", []string{"kebab", "case", "name"}},
		{"dotted.name.here", []string{"dotted", "name", "here"}},
		{"with spaces  here", []string{"with", "spaces", "here"}},
		{"__leading__and__trailing__", []string{"leading", "and", "trailing"}},
		{"UTF8String", []string{"UTF8", "String"}},
		{"utf8", []string{"utf8"}},
		{"V1Order", []string{"V1", "Order"}},
		{"Order2Items", []string{"Order2", "Items"}},
		{"2fa", []string{"2fa"}},
		{"HTTPSession", []string{"HTTP", "Session"}},
		{"ItemAddedToCart", []string{"Item", "Added", "To", "Cart"}},
		{"XMLHTTPRequest", []string{"XMLHTTP", "Request"}},
		{"a", []string{"a"}},
		{"A", []string{"A"}},
		{"aB", []string{"a", "B"}},
		{"ÜberCafé", []string{"Über", "Café"}},
	}
	for _, tt := range tests {
		if got := Words(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Words(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExported(t *testing.T) {
	tests := []struct{ in, want string }{
		{"installation_id", "InstallationID"},
		{"tenant_activity", "TenantActivity"},
		{"url", "URL"},
		{"github_repository", "GithubRepository"},
		{"api_key", "APIKey"},
		{"ids", "IDs"},
		{"v1_order", "V1Order"},
		{"InstallationID", "InstallationID"},
		{"HTTPServer", "HTTPServer"},
		{"userIDs", "UserIDs"},
		{"user_urls", "UserURLs"},
		{"V1_ORDER_CREATED", "V1OrderCreated"},
		{"todolist:item_added", "TodolistItemAdded"},
		{"OAuth2Token", "OAuth2Token"},
		{"IPv4Address", "IPv4Address"},
		{"json-body", "JSONBody"},
		{"utf8", "UTF8"},
		{"https_url", "HTTPSURL"},
		{"xml_http_request", "XMLHTTPRequest"},
		{"XMLHTTPRequest", "XMLHTTPRequest"},
		{"xmlhttp_request", "XMLHTTPRequest"},
		{"cpuid", "CPUID"},
		{"ORDER", "Order"},
		{"acid", "Acid"},
		{"type", "Type"},
		{"id", "ID"},
		{"ID", "ID"},
		{"", ""},
		{"_", ""},
		{"2fa_enabled", ""},
		{"123", ""},
		{"über_café", "ÜberCafé"},
	}
	for _, tt := range tests {
		got := Exported(tt.in)
		if got != tt.want {
			t.Errorf("Exported(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got != "" && !IsIdent(got) {
			t.Errorf("Exported(%q) = %q, not an identifier", tt.in, got)
		}
	}
}

func TestUnexported(t *testing.T) {
	tests := []struct{ in, want string }{
		{"InstallationID", "installationID"},
		{"ID", "id"},
		{"IDs", "ids"},
		{"URL", "url"},
		{"URLPath", "urlPath"},
		{"HTTPServer", "httpServer"},
		{"AccountLogin", "accountLogin"},
		{"installation_id", "installationID"},
		{"api_key", "apiKey"},
		{"UserIDs", "userIDs"},
		{"V1Order", "v1Order"},
		{"V1_ORDER", "v1Order"},
		{"Type", "type"}, // a keyword: callers check IsIdent or use Param
		{"ctx", "ctx"},
		{"", ""},
		{"_", ""},
		{"2FA", ""},
		{"Über", "über"},
	}
	for _, tt := range tests {
		if got := Unexported(tt.in); got != tt.want {
			t.Errorf("Unexported(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSnake(t *testing.T) {
	tests := []struct{ in, want string }{
		{"InstallationID", "installation_id"},
		{"HTTPServer", "http_server"},
		{"userIDs", "user_ids"},
		{"V1_ORDER_CREATED", "v1_order_created"},
		{"repository_added", "repository_added"},
		{"todolist:item_added", "todolist_item_added"},
		{"GetURLPath", "get_url_path"},
		{"TenantActivity", "tenant_activity"},
		{"GithubRepository", "github_repository"},
		{"kebab-case", "kebab_case"},
		{"Installation", "installation"},
		{"", ""},
		{"__", ""},
	}
	for _, tt := range tests {
		if got := Snake(tt.in); got != tt.want {
			t.Errorf("Snake(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct{ in, want string }{
		{"installation", "installations"},
		{"github_repository", "github_repositories"},
		{"activity", "activities"},
		{"tenant_activity", "tenant_activities"},
		{"key", "keys"},
		{"api_key", "api_keys"},
		{"day", "days"},
		{"address", "addresses"},
		{"status", "statuses"},
		{"box", "boxes"},
		{"match", "matches"},
		{"wish", "wishes"},
		{"buzz", "buzzes"},
		{"person", "people"},
		{"child", "children"},
		{"man", "men"},
		{"woman", "women"},
		{"datum", "data"},
		{"index", "indexes"},
		{"search_index", "search_indexes"},
		{"analysis", "analyses"},
		{"diagnosis", "diagnoses"},
		{"criterion", "criteria"},
		{"quiz", "quizzes"},
		{"epoch", "epochs"},
		{"data", "data"},
		{"news", "news"},
		{"series", "series"},
		{"species", "species"},
		{"metadata", "metadata"},
		{"user_metadata", "user_metadata"},
		{"people", "people"},
		{"children", "children"},
		{"men", "men"},
		{"software", "software"},
		{"information", "information"},
		{"human", "humans"},
		{"id", "ids"},
		{"user_id", "user_ids"},
		{"order", "orders"},
		{"video", "videos"},
		{"v1", "v1s"},
		{"y", "ys"},
		{"", ""},
		{"trailing_", "trailing_"},
	}
	for _, tt := range tests {
		if got := Plural(tt.in); got != tt.want {
			t.Errorf("Plural(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsIdent(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"installationID", true},
		{"_", true},
		{"_x", true},
		{"x1", true},
		{"über", true},
		{"", false},
		{"1x", false},
		{"a-b", false},
		{"a b", false},
		{"type", false},
		{"func", false},
		{"len", true},
		{"nil", true},
	}
	for _, tt := range tests {
		if got := IsIdent(tt.in); got != tt.want {
			t.Errorf("IsIdent(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsGoKeyword(t *testing.T) {
	keywords := []string{
		"break", "case", "chan", "const", "continue", "default", "defer",
		"else", "fallthrough", "for", "func", "go", "goto", "if", "import",
		"interface", "map", "package", "range", "return", "select", "struct",
		"switch", "type", "var",
	}
	if len(keywords) != 25 {
		t.Fatalf("test table has %d keywords, want 25", len(keywords))
	}
	for _, kw := range keywords {
		if !IsGoKeyword(kw) {
			t.Errorf("IsGoKeyword(%q) = false, want true", kw)
		}
	}
	// Every token the scanner calls a keyword is in the table.
	for tok := token.Token(0); tok < 200; tok++ {
		if tok.IsKeyword() && !slices.Contains(keywords, tok.String()) {
			t.Errorf("go/token keyword %q missing from the test table", tok.String())
		}
	}
	for _, s := range []string{"", "Type", "len", "nil", "true", "any", "typ", "goto_"} {
		if IsGoKeyword(s) {
			t.Errorf("IsGoKeyword(%q) = true, want false", s)
		}
	}
}

func TestIsPredeclared(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"len", true},
		{"new", true},
		{"min", true},
		{"max", true},
		{"clear", true},
		{"nil", true},
		{"true", true},
		{"false", true},
		{"iota", true},
		{"string", true},
		{"error", true},
		{"any", true},
		{"comparable", true},
		{"uintptr", true},
		{"println", true},
		{"recover", true},
		{"ctx", false},
		{"type", false},
		{"Len", false},
		{"", false},
		{"unsafe", false},
	}
	for _, tt := range tests {
		if got := IsPredeclared(tt.in); got != tt.want {
			t.Errorf("IsPredeclared(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	// The list matches the universe scope of the Go toolchain.
	for _, name := range types.Universe.Names() {
		if !IsPredeclared(name) {
			t.Errorf("IsPredeclared(%q) = false, but go/types declares it in the universe scope", name)
		}
	}
}

func TestParam(t *testing.T) {
	reserved := map[string]bool{
		"ctx": true, "meta": true, "time": true, "uuid": true,
		"projection": true, "typ": true, "typValue": true,
	}
	tests := []struct {
		field    string
		reserved map[string]bool
		want     string
	}{
		{"InstallationID", nil, "installationID"},
		{"ID", nil, "id"},
		{"URLPath", nil, "urlPath"},
		{"AccountLogin", reserved, "accountLogin"},
		{"Type", nil, "typ"},
		{"Func", nil, "fn"},
		{"Range", nil, "rng"},
		{"Default", nil, "def"},
		{"Package", nil, "pkg"},
		{"Interface", nil, "iface"},
		{"Select", nil, "sel"},
		{"Chan", nil, "ch"},
		{"Map", nil, "m"},
		{"Go", nil, "goValue"},
		{"Var", nil, "varValue"},
		{"Return", nil, "returnValue"},
		{"Struct", nil, "structValue"},
		{"Break", nil, "breakValue"},
		{"Meta", reserved, "metaValue"},
		{"Ctx", reserved, "ctxValue"},
		{"Time", reserved, "timeValue"},
		{"UUID", reserved, "uuidValue"},
		{"Projection", reserved, "projectionValue"},
		{"Time", nil, "time"},
		{"Type", reserved, "typValueValue"}, // typ and typValue are both taken
		{"Len", nil, "lenValue"},
		{"Error", nil, "errorValue"},
		{"Min", nil, "minValue"},
		{"New", nil, "newValue"},
		{"String", nil, "stringValue"},
		{"_", nil, "value"},
		{"", nil, "value"},
	}
	for _, tt := range tests {
		got := Param(tt.field, tt.reserved)
		if got != tt.want {
			t.Errorf("Param(%q) = %q, want %q", tt.field, got, tt.want)
		}
		if !IsIdent(got) {
			t.Errorf("Param(%q) = %q, not an identifier", tt.field, got)
		}
	}
}

func TestSQLIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"installations", `"installations"`},
		{"order", `"order"`},
		{"user", `"user"`},
		{`we"ird`, `"we""ird"`},
		{`""`, `""""""`},
		{"MixedCase", `"MixedCase"`},
		{"", `""`},
	}
	for _, tt := range tests {
		if got := SQLIdent(tt.in); got != tt.want {
			t.Errorf("SQLIdent(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestIsSQLReserved(t *testing.T) {
	reserved := []string{
		"all", "analyse", "analyze", "and", "any", "array", "as", "asc",
		"asymmetric", "authorization", "binary", "both", "case", "cast",
		"check", "collate", "collation", "column", "concurrently",
		"constraint", "create", "cross", "current_catalog", "current_date",
		"current_role", "current_schema", "current_time", "current_timestamp",
		"current_user", "default", "deferrable", "desc", "distinct", "do",
		"else", "end", "except", "false", "fetch", "for", "foreign", "freeze",
		"from", "full", "grant", "group", "having", "ilike", "in", "initially",
		"inner", "intersect", "into", "is", "isnull", "join", "lateral",
		"leading", "left", "like", "limit", "localtime", "localtimestamp",
		"natural", "not", "notnull", "null", "offset", "on", "only", "or",
		"order", "outer", "overlaps", "placing", "primary", "references",
		"returning", "right", "select", "session_user", "similar", "some",
		"symmetric", "system_user", "table", "tablesample", "then", "to",
		"trailing", "true", "union", "unique", "user", "using", "variadic",
		"verbose", "when", "where", "window", "with",
	}
	for _, w := range reserved {
		if !IsSQLReserved(w) {
			t.Errorf("IsSQLReserved(%q) = false, want true", w)
		}
	}
	// Non-reserved key words and ordinary names.
	for _, w := range []string{
		"", "installations", "id", "name", "type", "key", "value", "data",
		"action", "between", "delete", "insert", "update", "values", "year",
		"ORDER", "timestamp", "text", "position",
	} {
		if IsSQLReserved(w) {
			t.Errorf("IsSQLReserved(%q) = true, want false", w)
		}
	}
}
