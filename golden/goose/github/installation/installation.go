// Package installation is the event-sourced aggregate of a GitHub App
// installation: GitHub tells the service that the app was installed,
// suspended, given repositories, and removed.
package installation

import (
	"fmt"

	"github.com/google/uuid"
)

// Installation is the aggregate: the state rebuilt from its events.
type Installation struct {
	ID             uuid.UUID
	Version        int64
	InstallationID int64
	AccountLogin   string
	TenantID       string
	Suspended      bool
	Deleted        bool
	Repositories   map[int64]string
}

// Apply changes the state by one event.
func (i *Installation) Apply(event any) error {
	switch e := event.(type) {
	case Created:
		i.InstallationID, i.AccountLogin, i.TenantID = e.InstallationID, e.AccountLogin, e.TenantID
		i.Repositories = map[int64]string{}
	case Suspended:
		i.Suspended = true
	case Unsuspended:
		i.Suspended = false
	case RepositoryAdded:
		i.Repositories[e.RepositoryID] = e.RepositoryName
	case RepositoryRemoved:
		delete(i.Repositories, e.RepositoryID)
	case Deleted:
		i.Deleted = true
	default:
		return fmt.Errorf("installation: unknown event %T", event)
	}
	i.Version++
	return nil
}
