package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
)

// exampleDatabaseURL is the database the next steps name, for the user to
// replace; ${DATABASE_URL:-...} keeps one already set.
const exampleDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// printNextSteps prints, after new, the commands that take the new
// projection from its files to a row in its table: apply the migrations,
// store an event, apply it, and look. cd names the module directory when
// it is not the current one.
func printNextSteps(w io.Writer, m *model.Module, name, cd string) {
	var p *model.Projection
	for _, proj := range m.Projections {
		if proj.Name == name {
			p = proj
		}
	}
	if p == nil {
		return
	}
	fmt.Fprintln(w, "next steps, to see a row in "+p.Table.Name+":")
	for _, line := range nextSteps(m, p, cd) {
		fmt.Fprintln(w, "  "+line)
	}
}

// nextSteps are the commands printNextSteps prints, one per line.
func nextSteps(m *model.Module, p *model.Projection, cd string) []string {
	var lines []string
	if cd != "" {
		lines = append(lines, "cd "+shellQuote(cd))
	}
	lines = append(lines,
		`export DATABASE_URL="${DATABASE_URL:-`+exampleDatabaseURL+`}"`,
		"go run ./cmd/projections -migrate")
	insert := creation(p)
	switch m.EventStore.Name {
	case config.SourceGoes:
		lines = append(lines, "# save aggregates with goes' PostgreSQL backend; set GOES_DATABASE_URL when its database is not DATABASE_URL's")
	case config.SourceHallgren:
		lines = append(lines, `export HALLGREN_DATABASE="${HALLGREN_DATABASE:-file:events.db}"   # hallgren's SQL store, where the application saves aggregates`)
	case config.SourceJetStream:
		lines = append(lines, `export NATS_URL="${NATS_URL:-nats://127.0.0.1:4222}"   # publish events to the stream EVENTS in the Headers layout (see the README)`)
	}
	switch {
	case m.EventStore.Name != config.SourceProjgen:
		// The application stores them, with its library.
	case insert == nil:
		lines = append(lines, "# store the events in the events table (see the README's Runner section)")
	default:
		sql := fmt.Sprintf("INSERT INTO events (aggregate_id, version, topic, payload) VALUES ('%s', 1, '%s', '%s')",
			sqlString(sampleID(p)), sqlString(insert.Topic), sqlString(samplePayload(insert.Event)))
		lines = append(lines, `psql "$DATABASE_URL" -c `+doubleQuote(sql))
	}
	return append(lines,
		"go run ./cmd/projections -catch-up",
		`psql "$DATABASE_URL" -c `+shellQuote(`SELECT * FROM "`+p.Table.Name+`"`))
}

// creation is the method of the projection's first inserting event, nil
// when no event inserts.
func creation(p *model.Projection) *model.Method {
	for _, m := range p.Methods {
		if m.Op == config.Insert || m.Op == config.Append {
			return m
		}
	}
	return nil
}

// sampleID is an aggregate ID of the projection's key type.
func sampleID(p *model.Projection) string {
	switch p.KeyType {
	case config.KeyUUID:
		return "0b6f1c2e-4d1a-4c7e-9f3e-2a5b8c9d0e1f"
	case config.KeyBigint:
		return "1"
	}
	return "example-1"
}

// samplePayload is a JSON payload of the event, a value of its type's
// kind for each field, as encoding/json decodes it.
func samplePayload(e *load.Event) string {
	if !e.HasPayload() || len(e.Fields) == 0 {
		return "{}"
	}
	obj := map[string]any{}
	for _, f := range e.Fields {
		key := f.Name
		if f.JSON != "" {
			key = f.JSON
		}
		obj[key] = sampleValue(f.Type)
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return "{}"
	}
	return string(data)
}

// sampleValue is a value of t for a JSON payload.
func sampleValue(t *load.Type) any {
	switch {
	case t.Name != nil && t.Name.Path == "time" && t.Name.Name == "Time":
		return "2026-01-02T15:04:05Z"
	case t.Name != nil && t.Name.Path == "github.com/google/uuid" && t.Name.Name == "UUID":
		return "5f0c3a9e-8b7d-4e21-a6c4-1d2e3f405162"
	}
	switch t.Kind {
	case load.Bool:
		return true
	case load.String:
		return "example"
	case load.Float32, load.Float64:
		return 1.5
	case load.Pointer:
		return sampleValue(t.Elem)
	case load.Slice:
		if t.Elem != nil && t.Elem.Kind == load.Uint8 {
			return "ZXhhbXBsZQ==" // []byte is base64 in JSON
		}
		return []any{}
	case load.Array:
		return make([]int, t.Len)
	case load.Map, load.Struct:
		return map[string]any{}
	}
	if t.Kind >= load.Int && t.Kind <= load.Uintptr {
		return 1
	}
	return nil
}

// sqlString escapes s for a single-quoted SQL string.
func sqlString(s string) string { return strings.ReplaceAll(s, "'", "''") }

// doubleQuote quotes s for the shell in double quotes, which read better
// than single ones around SQL's single-quoted strings.
func doubleQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(s) + `"`
}
