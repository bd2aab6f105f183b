// Command seccompgen prints the engine's default seccomp profile as moby's own package builds it
// (github.com/moby/profiles/seccomp, the version Docker v28.5.2 pins), in the layout of that
// package's generate.go. The sandbox's tests compare its output with seccomp_default.json, the
// copy the grader embeds. It is a module of its own so the grader's go.mod needs nothing of it.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/profiles/seccomp"
)

func main() {
	b, err := json.MarshalIndent(seccomp.DefaultProfile(), "", "\t")
	if err != nil {
		fmt.Fprintln(os.Stderr, "marshal the default profile:", err)
		os.Exit(1)
	}
	if _, err := os.Stdout.Write(b); err != nil {
		fmt.Fprintln(os.Stderr, "write the default profile:", err)
		os.Exit(1)
	}
}
