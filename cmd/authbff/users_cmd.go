package main

import (
	"context"
	"fmt"
	"io"

	"github.com/authbff/authbff/application"
)

// usersCmd is `authbff users count`.
func usersCmd(ctx context.Context, cfg Config, args []string, out, logOut io.Writer) error {
	if len(args) != 1 || args[0] != "count" {
		return exitCode{2, fmt.Errorf("users: want count")}
	}
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	h, err := buildUseCase[*application.CountUsersHandler](cfg, db, logOut)
	if err != nil {
		return err
	}
	n, err := h.Handle(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d users\n", n)
	return nil
}
