package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

// envFlags defines flags whose default an environment variable may set.
// A variable is read with its flag's own parser, so a value refused as a
// flag (DYNAPI_EXAMPLE=yes, DYNAPI_DIRECT_LOGIN_TTL=forever) is refused as
// a variable too, naming the variable, instead of being ignored. An empty
// variable counts as unset; a flag on the command line overrides its
// variable.
type envFlags struct {
	fs    *flag.FlagSet
	bound []envBinding
}

// envBinding ties a flag to its environment variable; want says what a
// valid value looks like.
type envBinding struct{ flag, env, want string }

func newEnvFlags(fs *flag.FlagSet) *envFlags { return &envFlags{fs: fs} }

func (e *envFlags) bind(name, envName, want string) {
	e.bound = append(e.bound, envBinding{flag: name, env: envName, want: want})
}

// String defines a string flag set by envName.
func (e *envFlags) String(name, envName, value, usage string) *string {
	e.bind(name, envName, "")
	return e.fs.String(name, value, usage+" (env "+envName+")")
}

// Int defines an integer flag set by envName.
func (e *envFlags) Int(name, envName string, value int, usage string) *int {
	e.bind(name, envName, "an integer")
	return e.fs.Int(name, value, usage+" (env "+envName+")")
}

// Bool defines a boolean flag set by envName.
func (e *envFlags) Bool(name, envName string, value bool, usage string) *bool {
	e.bind(name, envName, "true or false")
	return e.fs.Bool(name, value, usage+" (env "+envName+")")
}

// Duration defines a duration flag set by envName.
func (e *envFlags) Duration(name, envName string, value time.Duration, usage string) *time.Duration {
	e.bind(name, envName, "a duration such as 90s, 15m or 24h")
	return e.fs.Duration(name, value, usage+" (env "+envName+")")
}

// parse parses the command line args, then sets each flag they left out
// from its variable. Every malformed variable is reported, each with its
// name and what it wants; one the command line overrides is not read.
func (e *envFlags) parse(args []string) error {
	if err := e.fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	e.fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	for _, b := range e.bound {
		v, ok := os.LookupEnv(b.env)
		if !ok || v == "" || given[b.flag] {
			continue
		}
		if err := e.fs.Set(b.flag, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not valid: want %s (%v)", b.env, v, b.want, err))
		}
	}
	return errors.Join(errs...)
}
