package application

import (
	"context"
	"fmt"

	"github.com/authbff/authbff/ports"
)

// CountUsersHandler answers how many users authbff knows (`authbff users
// count`): a figure an operator compares with the IdP's during a cut-over.
type CountUsersHandler struct {
	users ports.UserStore
}

// NewCountUsersHandler returns a CountUsersHandler.
func NewCountUsersHandler(users ports.UserStore) *CountUsersHandler {
	return &CountUsersHandler{users: users}
}

// Handle returns the number of stored users.
func (h *CountUsersHandler) Handle(ctx context.Context) (int64, error) {
	n, err := h.users.CountUsers(ctx)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
