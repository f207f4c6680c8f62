package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/projgen/projgen/projection"
	"github.com/projgen/projgen/projection/projectiontest"

	"example.com/registry/github/installation"
)

// TestInstallationsAPI writes installations through the generated read
// model, as the runner does, and reads them through the API on the
// generated Postgres queries: one by ID, an unknown ID, a deleted one,
// and every page of a tenant's list.
func TestInstallationsAPI(t *testing.T) {
	pool := projectiontest.Open(t, "../github/installation/migrations")
	ctx := context.Background()
	rm := installation.NewPostgresInstallationReadModel(pool)
	at := time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)
	ids := make([]string, 7)
	for i := range ids {
		ids[i] = fmt.Sprintf("6f1c2a3e-0000-4000-8000-%012d", i+1)
		tenant := "acme"
		if i%2 == 1 {
			tenant = "globex"
		}
		meta := projection.Meta{AggregateID: ids[i], Version: 1, Position: int64(i + 1), Timestamp: at}
		if err := rm.CreateInstallation(ctx, meta, int64(100+i), fmt.Sprintf("login-%d", i), tenant); err != nil {
			t.Fatal(err)
		}
	}
	deleted := projection.Meta{AggregateID: ids[6], Version: 2, Position: 8, Timestamp: at}
	if err := rm.DeleteInstallation(ctx, deleted); err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	Installations{Queries: installation.NewPostgresInstallationQueries(pool)}.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string, want int, into any) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %s, want %d", path, resp.Status, want)
		}
		if into != nil {
			if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
	}

	var one installation.InstallationRow
	get("/installations/"+ids[2], http.StatusOK, &one)
	if one.AggregateID.String() != ids[2] || one.InstallationID != 102 || one.AccountLogin != "login-2" || one.TenantID != "acme" {
		t.Errorf("GET /installations/%s = %+v", ids[2], one)
	}
	get("/installations/6f1c2a3e-0000-4000-8000-999999999999", http.StatusNotFound, nil)
	get("/installations/"+ids[6], http.StatusNotFound, nil)
	get("/installations/not-a-uuid", http.StatusBadRequest, nil)
	get("/installations?after=garbage", http.StatusBadRequest, nil)

	// acme holds installations 0, 2 and 4 (6 is deleted): pages of two.
	var seen []int64
	next := ""
	for pages := 1; ; pages++ {
		var page listResponse
		path := "/installations?tenant_id=acme&limit=2"
		if next != "" {
			path += "&after=" + next
		}
		get(path, http.StatusOK, &page)
		for _, row := range page.Installations {
			seen = append(seen, row.InstallationID)
		}
		if page.Next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 2", pages)
			}
			break
		}
		next = page.Next
	}
	if fmt.Sprint(seen) != "[100 102 104]" {
		t.Errorf("acme's installations, page by page: %v, want [100 102 104]", seen)
	}
}
