package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/dynapi/dynapi/engine"
	"github.com/dynapi/dynapi/engine/access"
	"github.com/dynapi/dynapi/engine/audit"
	"github.com/dynapi/dynapi/engine/authz"
	"github.com/dynapi/dynapi/engine/identity"
	"github.com/dynapi/dynapi/plugins/boltstore"
)

// user runs "dynapi user create|unlock|password": it opens the store
// directly, so the server must not be running on the same data directory
// (the store's file lock says so clearly if it is). unlock and password are
// the operators' break-glass for a locked-out administrator: with the
// server stopped, its in-memory login failures are gone too. A password is
// read from DYNAPI_NEW_USER_PASSWORD or the first line of stdin, never
// from a flag, so it stays out of shell history and process lists.
func user(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	const usage = `usage: dynapi user create|unlock|password --username NAME [--email E] [--data-dir DIR]`
	if len(args) == 0 || (args[0] != "create" && args[0] != "unlock" && args[0] != "password") {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	ef := newEnvFlags(fs)
	dataDir := ef.String("data-dir", "DYNAPI_DATA_DIR", "./data", "directory of the embedded store")
	username := fs.String("username", "", "the user's name")
	email := fs.String("email", "", "the new user's email (create)")
	minPassword := ef.Int("password-min-length", "DYNAPI_PASSWORD_MIN_LENGTH", 10, "shortest password accepted")
	if err := ef.parse(args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("--username is required")
	}
	password := ""
	if args[0] != "unlock" {
		var err error
		if password, err = readPassword(stdin, stderr); err != nil {
			return err
		}
	}
	store, err := boltstore.Open(filepath.Join(*dataDir, "dynapi.db"), boltstore.Options{})
	if err != nil {
		return fmt.Errorf("%w (is the server running on this data directory?)", err)
	}
	defer store.Close()
	ctx := context.Background()
	svc, err := access.New(ctx, access.Options{Store: store, Passwords: identity.PasswordPolicy{MinLength: *minPassword}})
	if err != nil {
		return err
	}
	svc.Authz.RegisterRoles(authz.StaticRoles()...)
	cli := audit.Actor{CorrelationID: "cli"}
	if args[0] == "create" {
		u, err := svc.Identity.CreateUser(ctx, cli, identity.NewUser{Username: *username, Email: *email, Password: password})
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "created user %s (user_id %s)\n", u.Username, u.ID)
		return nil
	}
	u, err := svc.Identity.UserByName(ctx, *username)
	if err != nil {
		return describe(err)
	}
	if args[0] == "unlock" {
		if _, err := svc.Identity.SetLocked(ctx, cli, u.ID, false); err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "unlocked user %s\n", u.Username)
		return nil
	}
	if _, err := svc.Identity.SetPassword(ctx, cli, u.ID, password); err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "set the password of user %s; its sessions have ended\n", u.Username)
	return nil
}

// readPassword reads a password from DYNAPI_NEW_USER_PASSWORD, else from
// the first line of stdin.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if password, ok := os.LookupEnv("DYNAPI_NEW_USER_PASSWORD"); ok {
		return password, nil
	}
	fmt.Fprintln(stderr, "password (one line on stdin):")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password given: set DYNAPI_NEW_USER_PASSWORD or write it on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// describe spells out an engine error with each of its violations, for a
// terminal.
func describe(err error) error {
	var e *engine.Error
	if !errors.As(err, &e) {
		return err
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  %s%s: %s", v.Location, v.Pointer, v.Message)
	}
	return errors.New(b.String())
}
