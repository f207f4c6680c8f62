package migration_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/projgen/projgen/projection/migration"
)

// dir writes the files, name → content, into a new directory and returns
// it. A name ending in / is made a directory.
func dir(t *testing.T, files map[string]string) string {
	t.Helper()
	d := t.TempDir()
	for name, data := range files {
		p := filepath.Join(d, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// read calls migration.Read and fails the test on an error.
func read(t *testing.T, d string) []migration.Migration {
	t.Helper()
	ms, err := migration.Read(d)
	if err != nil {
		t.Fatalf("Read(%s): %v", d, err)
	}
	return ms
}

func TestReadGolangMigrate(t *testing.T) {
	d := dir(t, map[string]string{
		"10_add_tags.up.sql":            "ALTER TABLE t ADD tags text[];",
		"10_add_tags.down.sql":          "ALTER TABLE t DROP tags;",
		"2_add_name.up.sql":             "ALTER TABLE t ADD name text;",
		"000001_create_orders.up.sql":   "CREATE TABLE t (id uuid);",
		"000001_create_orders.down.sql": "DROP TABLE t;",
		"README.md":                     "# migrations",
		"notes.txt":                     "not a migration",
		"3_nested.up.sql/":              "",
		"old/":                          "",
	})
	got := read(t, d)
	want := []migration.Migration{
		{Version: 1, Name: "create_orders", Files: []string{"000001_create_orders.down.sql", "000001_create_orders.up.sql"}, Up: "CREATE TABLE t (id uuid);", Down: "DROP TABLE t;"},
		{Version: 2, Name: "add_name", Files: []string{"2_add_name.up.sql"}, Up: "ALTER TABLE t ADD name text;"},
		{Version: 10, Name: "add_tags", Files: []string{"10_add_tags.down.sql", "10_add_tags.up.sql"}, Up: "ALTER TABLE t ADD tags text[];", Down: "ALTER TABLE t DROP tags;"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read =\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadGoose(t *testing.T) {
	d := dir(t, map[string]string{
		"00010_add_tags.sql": "-- +goose Up\nALTER TABLE t ADD tags text[];\n-- +goose Down\nALTER TABLE t DROP tags;\n",
		"00002_create.sql":   "-- comment before\n-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE t (id uuid);\n-- +goose StatementEnd\n\n-- +goose Down\nDROP TABLE t;\n",
		"00003_up_only.sql":  "-- +goose Up\nCREATE INDEX ON t (id);\n",
		"README.md":          "-- +goose Up\nnot a migration\n",
	})
	got := read(t, d)
	want := []migration.Migration{
		{Version: 2, Name: "create", Files: []string{"00002_create.sql"},
			Up:   "\n-- +goose StatementBegin\nCREATE TABLE t (id uuid);\n-- +goose StatementEnd\n\n",
			Down: "\nDROP TABLE t;\n"},
		{Version: 3, Name: "up_only", Files: []string{"00003_up_only.sql"}, Up: "\nCREATE INDEX ON t (id);\n"},
		{Version: 10, Name: "add_tags", Files: []string{"00010_add_tags.sql"}, Up: "\nALTER TABLE t ADD tags text[];\n", Down: "\nALTER TABLE t DROP tags;\n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read =\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadMissingDirectory(t *testing.T) {
	ms, err := migration.Read(filepath.Join(t.TempDir(), "missing"))
	if err != nil {
		t.Errorf("Read of a missing directory: %v, want no error", err)
	}
	if len(ms) != 0 {
		t.Errorf("Read of a missing directory = %+v, want no migrations", ms)
	}
}

func TestReadEmptyDirectory(t *testing.T) {
	if ms := read(t, dir(t, map[string]string{"README.md": "x"})); len(ms) != 0 {
		t.Errorf("Read = %+v, want no migrations", ms)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{
			name: "two names for one version",
			files: map[string]string{
				"1_create_orders.up.sql": "CREATE TABLE a ();",
				"1_create_items.up.sql":  "CREATE TABLE b ();",
			},
			want: []string{"version 1", "1_create_orders.up.sql", "1_create_items.up.sql"},
		},
		{
			name: "two names for one version, in both layouts",
			files: map[string]string{
				"2_a.up.sql": "CREATE TABLE a ();",
				"2_b.sql":    "-- +goose Up\nCREATE TABLE b ();",
			},
			want: []string{"version 2", "2_a.up.sql", "2_b.sql"},
		},
		{
			name:  "goose file without an Up annotation",
			files: map[string]string{"1_create.sql": "CREATE TABLE a ();"},
			want:  []string{"1_create.sql", "-- +goose Up"},
		},
		{
			name:  "version out of range",
			files: map[string]string{"99999999999999999999_big.up.sql": "SELECT 1;"},
			want:  []string{"99999999999999999999", "out of range"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := migration.Read(dir(t, tt.files))
			if err == nil {
				t.Fatalf("Read = %+v, want an error", ms)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Read = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestSplitGoose(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		up, down string
	}{
		{"up and down", "-- +goose Up\nCREATE TABLE t ();\n-- +goose Down\nDROP TABLE t;\n", "\nCREATE TABLE t ();\n", "\nDROP TABLE t;\n"},
		{"up only", "-- +goose Up\nCREATE TABLE t ();\n", "\nCREATE TABLE t ();\n", ""},
		{"text before up is dropped", "-- header\nSELECT 0;\n-- +goose Up\nSELECT 1;\n", "\nSELECT 1;\n", ""},
		{"empty down", "-- +goose Up\nSELECT 1;\n-- +goose Down\n", "\nSELECT 1;\n", "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, down, err := migration.SplitGoose(tt.src)
			if err != nil {
				t.Fatalf("SplitGoose: %v", err)
			}
			if up != tt.up || down != tt.down {
				t.Errorf("SplitGoose = (%q, %q), want (%q, %q)", up, down, tt.up, tt.down)
			}
		})
	}
}

func TestSplitGooseWithoutUp(t *testing.T) {
	for _, src := range []string{"CREATE TABLE t ();", "-- +goose Down\nDROP TABLE t;", ""} {
		if up, down, err := migration.SplitGoose(src); err == nil {
			t.Errorf("SplitGoose(%q) = (%q, %q), want an error", src, up, down)
		} else if !strings.Contains(err.Error(), "-- +goose Up") {
			t.Errorf("SplitGoose(%q) = %q, want it to name the missing annotation", src, err)
		}
	}
}
