package cli

// Exit codes of the grader command. A candidate doing badly is not a failure of the command.
const (
	ExitOK      = 0 // done
	ExitFailure = 1 // the command could not do its work (engine down, bad file, ...)
	ExitUsage   = 2 // the command line was wrong
)
