// Package api serves the installations read model over HTTP, with the
// standard library alone. It reads only the projection's generated
// queries, never the aggregate: the read side of CQRS.
package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/projgen/projgen/projection"

	"example.com/registry/github/installation"
)

// Installations serves GET /installations/{id} and a paginated
// GET /installations?tenant_id=T&limit=N&after=CURSOR.
type Installations struct {
	// Queries reads the installations table: a
	// *installation.PostgresInstallationQueries on the service's pool.
	Queries installation.InstallationQueries
}

// Register adds the routes to mux.
func (h Installations) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /installations/{id}", h.get)
	mux.HandleFunc("GET /installations", h.list)
}

func (h Installations) get(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		http.Error(w, "the installation ID is not a UUID", http.StatusBadRequest)
		return
	}
	row, err := h.Queries.GetInstallationRow(r.Context(), id)
	switch {
	case errors.Is(err, projection.ErrNotFound):
		http.Error(w, "no such installation", http.StatusNotFound)
	case err != nil:
		serverError(w, r, err)
	default:
		writeJSON(w, row)
	}
}

// listResponse is a page of installations, with the cursor of the next.
type listResponse struct {
	Installations []installation.InstallationRow `json:"installations"`
	Next          string                         `json:"next,omitempty"`
}

func (h Installations) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	opts := installation.InstallationListOptions{After: q.Get("after")}
	if tenant := q.Get("tenant_id"); tenant != "" {
		opts.TenantID = &tenant
	}
	if v := q.Get("limit"); v != "" {
		limit, err := strconv.Atoi(v)
		if err != nil || limit < 1 {
			http.Error(w, "limit is not a positive number", http.StatusBadRequest)
			return
		}
		opts.Limit = limit
	}
	page, err := h.Queries.ListInstallationRows(r.Context(), opts)
	switch {
	case errors.Is(err, projection.ErrBadCursor):
		http.Error(w, "after is not a cursor this API gave", http.StatusBadRequest)
	case err != nil:
		serverError(w, r, err)
	default:
		writeJSON(w, listResponse{Installations: page.Rows, Next: page.Next})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Error("write a response", "err", err)
	}
}

func serverError(w http.ResponseWriter, r *http.Request, err error) {
	slog.ErrorContext(r.Context(), "read installations", "path", r.URL.Path, "err", err)
	http.Error(w, "the installations cannot be read now", http.StatusInternalServerError)
}
