package render

import (
	"strings"
	"testing"

	"github.com/projgen/projgen/generator/model"
)

// TestPostgresDocNamesTheRealGuard checks that the read model's doc
// comment claims the guard its table has: a table keyed by a field is
// guarded by the position of its rows' last events, not by an aggregate
// version, and only a table with tombstones claims them.
func TestPostgresDocNamesTheRealGuard(t *testing.T) {
	version := &model.Column{Name: model.VersionColumnName, Role: model.VersionColumn}
	position := &model.Column{Name: model.PositionColumnName, Role: model.PositionColumn}
	names := model.Names{Postgres: "PostgresThings", ReadModel: "ThingsReadModel"}
	tests := []struct {
		name      string
		table     *model.Table
		want, not []string
	}{
		{"keyed by aggregate", &model.Table{Name: "things", Guard: version},
			[]string{"newer than the row's aggregate_version"}, []string{"last_position", "tombstone"}},
		{"keyed by a field", &model.Table{Name: "things", Guard: position},
			[]string{"newer than the row's last_position"}, []string{"aggregate_version", "aggregate version", "tombstone"}},
		{"with tombstones", &model.Table{Name: "things", Guard: version, Tombstones: &model.Table{Name: "things_tombstones"}},
			[]string{"things_tombstones", "does not bring the row back"}, nil},
		{"append-only", &model.Table{Name: "things", AppendOnly: true},
			[]string{"a row per event"}, []string{"newer than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := postgresDoc(&model.Projection{Names: names, Table: tt.table})
			for _, w := range tt.want {
				if !strings.Contains(d, w) {
					t.Errorf("doc %q does not say %q", d, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(d, n) {
					t.Errorf("doc %q says %q", d, n)
				}
			}
		})
	}
}
