package schema

import (
	"fmt"
	"strings"
	"unicode"
)

// Apply replays the statements of one migration onto s. Statements it does
// not know are skipped; statements it knows but cannot follow are errors.
func (s *Schema) Apply(sql string) error {
	stmts, err := split(sql)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if err := s.apply(st); err != nil {
			return fmt.Errorf("%w, in: %s", err, st.String())
		}
	}
	return nil
}

// token is a lexical token of SQL: a word, a quoted identifier, a string
// or a punctuation mark.
type token struct {
	text   string
	quoted bool // a "quoted identifier"
	str    bool // a 'string' or $$dollar$$ string
}

type stmt []token

func (st stmt) String() string {
	var parts []string
	for _, t := range st {
		parts = append(parts, t.text)
	}
	s := strings.Join(parts, " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// split tokenizes sql and splits it into statements at top-level semicolons.
func split(sql string) ([]stmt, error) {
	var out []stmt
	var cur stmt
	r := []rune(sql)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '-' && i+1 < len(r) && r[i+1] == '-':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			end := strings.Index(string(r[i+2:]), "*/")
			if end < 0 {
				return nil, fmt.Errorf("unterminated /* comment")
			}
			i += 2 + len([]rune(string(r[i+2:])[:end])) + 2
		case c == '"':
			text, n, err := quoted(r[i:], '"')
			if err != nil {
				return nil, err
			}
			cur = append(cur, token{text: text, quoted: true})
			i += n
		case c == '\'':
			text, n, err := quoted(r[i:], '\'')
			if err != nil {
				return nil, err
			}
			cur = append(cur, token{text: text, str: true})
			i += n
		case c == '$' && dollarTag(r[i:]) != "":
			tag := dollarTag(r[i:])
			rest := string(r[i+len([]rune(tag)):])
			end := strings.Index(rest, tag)
			if end < 0 {
				return nil, fmt.Errorf("unterminated %s string", tag)
			}
			cur = append(cur, token{text: rest[:end], str: true})
			i += len([]rune(tag)) + len([]rune(rest[:end])) + len([]rune(tag))
		case c == ';':
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			i++
		case c == ':' && i+1 < len(r) && r[i+1] == ':':
			cur = append(cur, token{text: "::"})
			i += 2
		case isWordRune(c):
			j := i
			// A number keeps its decimal point: 0.5 is one token.
			for j < len(r) && (isWordRune(r[j]) || r[j] == '$' || (r[j] == '.' && unicode.IsDigit(c))) {
				j++
			}
			cur = append(cur, token{text: string(r[i:j])})
			i = j
		default:
			cur = append(cur, token{text: string(c)})
			i++
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

func isWordRune(c rune) bool {
	return c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c)
}

// quoted reads a string or identifier quoted with q, where a doubled q
// stands for itself.
func quoted(r []rune, q rune) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(r); i++ {
		if r[i] == q {
			if i+1 < len(r) && r[i+1] == q {
				b.WriteRune(q)
				i++
				continue
			}
			return b.String(), i + 1, nil
		}
		b.WriteRune(r[i])
	}
	return "", 0, fmt.Errorf("unterminated %c quote", q)
}

// dollarTag returns the $tag$ that opens a dollar-quoted string, or "".
func dollarTag(r []rune) string {
	for i := 1; i < len(r); i++ {
		if r[i] == '$' {
			return string(r[:i+1])
		}
		if !isWordRune(r[i]) || (i == 1 && unicode.IsDigit(r[i])) {
			return ""
		}
	}
	return ""
}

// parser walks one statement's tokens.
type parser struct {
	toks stmt
	pos  int
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

func (p *parser) next() token {
	t := p.peek()
	p.pos++
	return t
}

// is reports whether the next tokens are the given keywords, and consumes
// them if so.
func (p *parser) is(words ...string) bool {
	for i, w := range words {
		if p.pos+i >= len(p.toks) {
			return false
		}
		t := p.toks[p.pos+i]
		if t.quoted || t.str || !strings.EqualFold(t.text, w) {
			return false
		}
	}
	p.pos += len(words)
	return true
}

// name reads a possibly schema-qualified name and returns its last part.
// Unquoted names fold to lower case, as in PostgreSQL.
func (p *parser) name() (string, error) {
	var n string
	for {
		t := p.next()
		switch {
		case t.quoted:
			n = t.text
		case t.text != "" && !t.str && isWordRune([]rune(t.text)[0]):
			n = strings.ToLower(t.text)
		default:
			return "", fmt.Errorf("expected a name, found %q", t.text)
		}
		if p.peek().text != "." || p.peek().quoted {
			return n, nil
		}
		p.next()
	}
}

// names reads a parenthesized, comma-separated list of names.
func (p *parser) names() ([]string, error) {
	if p.next().text != "(" {
		return nil, fmt.Errorf("expected (")
	}
	var out []string
	for {
		n, err := p.name()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		// Skip ASC, DESC, opclasses and the like up to , or ).
		p.skipExpr()
		switch p.next().text {
		case ",":
		case ")":
			return out, nil
		default:
			return nil, fmt.Errorf("expected , or )")
		}
	}
}

// skipExpr skips tokens up to a top-level , or ), or the end.
func (p *parser) skipExpr() string {
	var parts []string
	depth := 0
	for !p.done() {
		t := p.peek()
		if !t.quoted && !t.str {
			switch t.text {
			case "(":
				depth++
			case ")":
				if depth == 0 {
					return strings.Join(parts, " ")
				}
				depth--
			case ",":
				if depth == 0 {
					return strings.Join(parts, " ")
				}
			}
		}
		parts = append(parts, t.text)
		p.next()
	}
	return strings.Join(parts, " ")
}

var columnConstraintWords = map[string]bool{
	"constraint": true, "primary": true, "not": true, "null": true, "default": true,
	"unique": true, "references": true, "check": true, "collate": true, "generated": true,
}

// columnDef reads "name type [constraints]".
func (p *parser) columnDef() (*Column, bool, error) {
	name, err := p.name()
	if err != nil {
		return nil, false, err
	}
	col := &Column{Name: name}
	var typ []string
	depth := 0
	for !p.done() {
		t := p.peek()
		if !t.quoted && !t.str {
			low := strings.ToLower(t.text)
			if depth == 0 && (low == "," || low == ")" || columnConstraintWords[low]) {
				break
			}
			switch low {
			case "(":
				depth++
			case ")":
				depth--
			}
		}
		typ = append(typ, t.text)
		p.next()
	}
	if len(typ) == 0 {
		return nil, false, fmt.Errorf("column %s has no type", name)
	}
	col.Type = NormalizeType(strings.Join(typ, " "))
	pk := false
	for !p.done() {
		switch {
		case p.is("primary", "key"):
			pk = true
			col.NotNull = true
		case p.is("not", "null"):
			col.NotNull = true
		case p.is("null"):
			col.NotNull = false
		case p.is("default"):
			col.Default = p.constraintExpr()
		case p.is("constraint"):
			if _, err := p.name(); err != nil {
				return nil, false, err
			}
		default:
			t := p.peek()
			if t.text == "," || t.text == ")" {
				return col, pk, nil
			}
			p.next()
			p.constraintExpr()
		}
	}
	return col, pk, nil
}

// constraintExpr reads an expression up to the next top-level constraint
// keyword, comma or closing parenthesis.
func (p *parser) constraintExpr() string {
	var parts []string
	depth := 0
	for !p.done() {
		t := p.peek()
		if !t.quoted && !t.str {
			low := strings.ToLower(t.text)
			if depth == 0 && (low == "," || low == ")" || (columnConstraintWords[low] && len(parts) > 0)) {
				break
			}
			switch low {
			case "(":
				depth++
			case ")":
				depth--
			}
		}
		// Keywords fold to lower case; strings and quoted identifiers keep
		// their case and get their quotes back.
		text := strings.ToLower(t.text)
		switch {
		case t.str:
			text = "'" + strings.ReplaceAll(t.text, "'", "''") + "'"
		case t.quoted:
			text = `"` + strings.ReplaceAll(t.text, `"`, `""`) + `"`
		}
		parts = append(parts, text)
		p.next()
	}
	return strings.Join(parts, " ")
}

func (s *Schema) apply(st stmt) error {
	p := &parser{toks: st}
	switch {
	case p.is("create", "table"):
		return s.createTable(p)
	case p.is("create", "unique", "index"):
		return s.createIndex(p, true)
	case p.is("create", "index"):
		return s.createIndex(p, false)
	case p.is("alter", "table"):
		return s.alterTable(p)
	case p.is("drop", "table"):
		p.is("if", "exists")
		for {
			n, err := p.name()
			if err != nil {
				return err
			}
			s.dropTable(n)
			if !p.is(",") {
				return nil
			}
		}
	case p.is("drop", "index"):
		p.is("concurrently")
		p.is("if", "exists")
		for {
			n, err := p.name()
			if err != nil {
				return err
			}
			s.dropIndex(n)
			if !p.is(",") {
				return nil
			}
		}
	}
	return nil
}

func (s *Schema) createTable(p *parser) error {
	ifNotExists := p.is("if", "not", "exists")
	name, err := p.name()
	if err != nil {
		return err
	}
	if old := s.Table(name); old != nil {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("table %s is created twice", name)
	}
	t := &Table{Name: name}
	if p.next().text != "(" {
		return fmt.Errorf("expected ( after CREATE TABLE %s", name)
	}
	for {
		switch {
		case p.is("primary", "key"):
			cols, err := p.names()
			if err != nil {
				return err
			}
			t.PrimaryKey = cols
		case p.is("constraint"), p.is("unique"), p.is("check"), p.is("foreign"), p.is("exclude"):
			p.skipExpr()
		default:
			col, pk, err := p.columnDef()
			if err != nil {
				return err
			}
			t.Columns = append(t.Columns, col)
			if pk {
				t.PrimaryKey = []string{col.Name}
			}
		}
		switch p.next().text {
		case ",":
		case ")":
			for _, k := range t.PrimaryKey {
				if c := t.Column(k); c != nil {
					c.NotNull = true
				}
			}
			s.Tables = append(s.Tables, t)
			return nil
		default:
			return fmt.Errorf("expected , or ) in CREATE TABLE %s", name)
		}
	}
}

func (s *Schema) createIndex(p *parser, unique bool) error {
	p.is("concurrently")
	ifNotExists := p.is("if", "not", "exists")
	name := ""
	if !p.is("on") {
		n, err := p.name()
		if err != nil {
			return err
		}
		name = n
		if !p.is("on") {
			return fmt.Errorf("expected ON in CREATE INDEX %s", name)
		}
	}
	p.is("only")
	table, err := p.name()
	if err != nil {
		return err
	}
	if p.is("using") {
		p.next()
	}
	cols, err := p.names()
	if err != nil {
		return err
	}
	t := s.Table(table)
	if t == nil {
		return fmt.Errorf("index %s is on table %s, which no earlier migration creates", name, table)
	}
	if name == "" {
		name = table + "_" + strings.Join(cols, "_") + "_idx"
	}
	if t.Index(name) != nil {
		if ifNotExists {
			return nil
		}
		return fmt.Errorf("index %s is created twice", name)
	}
	t.Indexes = append(t.Indexes, &Index{Name: name, Columns: cols, Unique: unique})
	return nil
}

func (s *Schema) alterTable(p *parser) error {
	p.is("if", "exists")
	p.is("only")
	name, err := p.name()
	if err != nil {
		return err
	}
	t := s.Table(name)
	if t == nil {
		return fmt.Errorf("ALTER TABLE %s: no earlier migration creates it", name)
	}
	for {
		if err := s.alterAction(p, t); err != nil {
			return fmt.Errorf("ALTER TABLE %s: %w", name, err)
		}
		if !p.is(",") {
			return nil
		}
	}
}

func (s *Schema) alterAction(p *parser, t *Table) error {
	switch {
	case p.is("add"):
		if p.is("constraint") || p.is("primary") || p.is("unique") || p.is("check") || p.is("foreign") {
			p.skipExpr()
			return nil
		}
		p.is("column")
		ifNotExists := p.is("if", "not", "exists")
		col, pk, err := p.columnDef()
		if err != nil {
			return err
		}
		if t.Column(col.Name) != nil {
			if ifNotExists {
				return nil
			}
			return fmt.Errorf("column %s is added twice", col.Name)
		}
		t.Columns = append(t.Columns, col)
		if pk {
			t.PrimaryKey = []string{col.Name}
		}
	case p.is("drop"):
		if p.is("constraint") {
			p.skipExpr()
			return nil
		}
		p.is("column")
		p.is("if", "exists")
		n, err := p.name()
		if err != nil {
			return err
		}
		t.dropColumn(n)
		p.is("cascade")
		p.is("restrict")
	case p.is("alter"):
		p.is("column")
		n, err := p.name()
		if err != nil {
			return err
		}
		col := t.Column(n)
		if col == nil {
			return fmt.Errorf("column %s does not exist", n)
		}
		switch {
		case p.is("type"), p.is("set", "data", "type"):
			var typ []string
			depth := 0 // a comma inside numeric(10, 2) does not end the type
			for !p.done() && (depth > 0 || p.peek().text != "," && !strings.EqualFold(p.peek().text, "using") && !strings.EqualFold(p.peek().text, "collate")) {
				switch p.peek().text {
				case "(":
					depth++
				case ")":
					depth--
				}
				typ = append(typ, p.next().text)
			}
			col.Type = NormalizeType(strings.Join(typ, " "))
			if p.is("collate") {
				p.next()
			}
			if p.is("using") {
				p.skipExpr()
			}
		case p.is("set", "not", "null"):
			col.NotNull = true
		case p.is("drop", "not", "null"):
			col.NotNull = false
		case p.is("set", "default"):
			col.Default = p.constraintExpr()
		case p.is("drop", "default"):
			col.Default = ""
		default:
			p.skipExpr()
		}
	case p.is("rename", "constraint"):
		p.skipExpr()
	case p.is("rename", "to"):
		n, err := p.name()
		if err != nil {
			return err
		}
		t.Name = n
	case p.is("rename"):
		p.is("column")
		from, err := p.name()
		if err != nil {
			return err
		}
		if !p.is("to") {
			return fmt.Errorf("expected TO in RENAME")
		}
		to, err := p.name()
		if err != nil {
			return err
		}
		col := t.Column(from)
		if col == nil {
			return fmt.Errorf("column %s does not exist", from)
		}
		col.Name = to
		for i, k := range t.PrimaryKey {
			if k == from {
				t.PrimaryKey[i] = to
			}
		}
		for _, ix := range t.Indexes {
			for i, c := range ix.Columns {
				if c == from {
					ix.Columns[i] = to
				}
			}
		}
	default:
		p.skipExpr()
	}
	return nil
}
