package installation

// Created: the app was installed on an account.
type Created struct {
	InstallationID int64
	AccountLogin   string
	TenantID       string
}

// Suspended: the account suspended the installation.
type Suspended struct{}

// Unsuspended: the account lifted the suspension.
type Unsuspended struct{}

// RepositoryAdded: the installation was given access to a repository.
type RepositoryAdded struct {
	RepositoryID   int64
	RepositoryName string
	RepositoryURL  string
}

// RepositoryRemoved: the installation lost access to a repository.
type RepositoryRemoved struct {
	RepositoryID int64
}

// Deleted: the app was uninstalled.
type Deleted struct{}
