package cmd

import (
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/config"
	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
)

func TestSamplePayload(t *testing.T) {
	named := func(kind load.Kind, path, name string) *load.Type {
		return &load.Type{Kind: kind, Name: &load.TypeName{Path: path, Name: name}}
	}
	e := &load.Event{Name: "Placed", Type: &load.Type{Kind: load.Struct}, Fields: []*load.Field{
		{Name: "Customer", Type: &load.Type{Kind: load.String}},
		{Name: "Total", JSON: "total", Type: &load.Type{Kind: load.Int64}},
		{Name: "At", Type: named(load.Struct, "time", "Time")},
		{Name: "ID", Type: named(load.Array, "github.com/google/uuid", "UUID")},
		{Name: "Note", Type: &load.Type{Kind: load.Pointer, Elem: &load.Type{Kind: load.String}}},
		{Name: "Raw", Type: &load.Type{Kind: load.Slice, Elem: &load.Type{Kind: load.Uint8}}},
		{Name: "Tags", Type: &load.Type{Kind: load.Slice, Elem: &load.Type{Kind: load.String}}},
		{Name: "Paid", Type: &load.Type{Kind: load.Bool}},
	}}
	const want = `{"At":"2026-01-02T15:04:05Z","Customer":"example","ID":"5f0c3a9e-8b7d-4e21-a6c4-1d2e3f405162",` +
		`"Note":"example","Paid":true,"Raw":"ZXhhbXBsZQ==","Tags":[],"total":1}`
	if got := samplePayload(e); got != want {
		t.Errorf("samplePayload = %s\nwant %s", got, want)
	}
}

// TestNextStepsByStore checks that the next steps append an event to
// projgen's table only, and set what the runner main of another store
// reads.
func TestNextStepsByStore(t *testing.T) {
	p := &model.Projection{Name: "order", KeyType: config.KeyText, Table: &model.Table{Name: "orders"}, Methods: []*model.Method{
		{Op: config.Insert, Topic: "order.placed", Event: &load.Event{Name: "Placed", Type: &load.Type{Kind: load.Struct}}},
	}}
	tests := []struct {
		store, want, unwanted string
	}{
		{config.SourceProjgen, `INSERT INTO events (aggregate_id, version, topic, payload) VALUES ('example-1', 1, 'order.placed', '{}')`, "NATS_URL"},
		{config.SourceJetStream, "NATS_URL", "INSERT"},
		{config.SourceHallgren, "HALLGREN_DATABASE", "INSERT"},
		{config.SourceGoes, "GOES_DATABASE_URL", "INSERT"},
	}
	for _, tt := range tests {
		t.Run(tt.store, func(t *testing.T) {
			m := &model.Module{EventStore: model.EventStore{Name: tt.store}, Projections: []*model.Projection{p}}
			steps := strings.Join(nextSteps(m, p, "shop"), "\n")
			for _, want := range []string{"cd shop\n", tt.want, "go run ./cmd/projections -migrate", "go run ./cmd/projections -catch-up", `SELECT * FROM "orders"`} {
				if !strings.Contains(steps, want) {
					t.Errorf("next steps lack %q:\n%s", want, steps)
				}
			}
			if strings.Contains(steps, tt.unwanted) {
				t.Errorf("next steps hold %q:\n%s", tt.unwanted, steps)
			}
		})
	}
}
