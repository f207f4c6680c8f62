package model_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/projgen/projgen/generator/load"
	"github.com/projgen/projgen/generator/model"
	"github.com/projgen/projgen/projection/projectiontest"
)

// TestFloat32ColumnKeepsItsValue stores a float32 in the column type
// MapType gives it, on the real server: it must read back as the value
// written, and match that value written as a literal, as a hand-written
// query would. In double precision, float32(0.1) is
// 0.10000000149011612, and WHERE x = '0.1' matches nothing.
func TestFloat32ColumnKeepsItsValue(t *testing.T) {
	ct, err := model.MapType(basic(load.Float32))
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv(projectiontest.URLEnv) == "" && os.Getenv(projectiontest.RequireEnv) != "1" {
		t.Setenv(projectiontest.URLEnv, "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "001_floats.up.sql"), []byte("CREATE TABLE floats (x "+ct.SQL+" NOT NULL)"), 0o644); err != nil {
		t.Fatal(err)
	}
	pool := projectiontest.Open(t, dir)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "INSERT INTO floats (x) VALUES ($1)", float32(0.1)); err != nil {
		t.Fatal(err)
	}
	var text string
	var matches int
	if err := pool.QueryRow(ctx, "SELECT x::text, (SELECT count(*) FROM floats WHERE x = '0.1') FROM floats").Scan(&text, &matches); err != nil {
		t.Fatal(err)
	}
	if text != "0.1" || matches != 1 {
		t.Errorf("float32(0.1) in a %s column reads back as %s, and WHERE x = '0.1' matches %d rows; want 0.1 and 1", ct.SQL, text, matches)
	}
}
