package ports

import "context"

// HealthCheck is one dependency that readiness depends on.
type HealthCheck interface {
	// Name identifies the dependency in readiness reports ("database", "idp").
	Name() string
	// Check returns nil when the dependency is usable, else an error saying
	// why, free of secrets.
	Check(ctx context.Context) error
}
