package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The helpers keep session-bench.sh free of psql, curl and python.

var dbName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// createDBCmd creates a fresh database on an admin URL and prints its URL.
func createDBCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("createdb", flag.ContinueOnError)
	admin := fs.String("admin-url", "", "PostgreSQL admin URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "authbff_load_" + hex.EncodeToString(b[:])
	if err := adminExec(ctx, *admin, "CREATE DATABASE "+name); err != nil {
		return err
	}
	u, _ := url.Parse(*admin)
	u.Path = "/" + name
	fmt.Fprintln(out, u.String())
	return nil
}

// dropDBCmd drops a database created by createdb, given its URL.
func dropDBCmd(ctx context.Context, args []string, _ io.Writer) error {
	fs := flag.NewFlagSet("dropdb", flag.ContinueOnError)
	admin := fs.String("admin-url", "", "PostgreSQL admin URL")
	target := fs.String("database-url", "", "URL of the database to drop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*target)
	name := ""
	if err == nil {
		name = strings.TrimPrefix(u.Path, "/")
	}
	if !dbName.MatchString(name) || !strings.HasPrefix(name, "authbff_load_") {
		return fmt.Errorf("dropdb only drops databases made by createdb, got %q", name)
	}
	return adminExec(ctx, *admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
}

func adminExec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect to the admin URL: %w", err)
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// freePortCmd prints a free loopback TCP port.
func freePortCmd(_ context.Context, _ []string, out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Fprintln(out, ln.Addr().(*net.TCPAddr).Port)
	return nil
}
