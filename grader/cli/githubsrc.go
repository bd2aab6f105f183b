package cli

import (
	"fmt"
	"log/slog"

	"github.com/itsm-grader/grader/grader/github"
	"github.com/itsm-grader/grader/grader/intake"
)

// gitHubRemote lets intake take GitHub repositories (github.com/OWNER/REPO[@REF], and the same on
// the Enterprise host of --github-api) with the environment's credentials (GITHUB_TOKEN, or
// GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY_FILE). When one of sources is GitHub's, it says on
// stderr who the grader is to GitHub.
func gitHubRemote(env Env, log *slog.Logger, apiURL string, sources ...string) (intake.Remote, error) {
	cfg, err := github.ConfigFromEnv(env.Getenv)
	if err != nil {
		return nil, err
	}
	cfg.APIURL, cfg.Log = apiURL, log
	client, err := github.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	for _, s := range sources {
		if github.Claims(s, client.WebHost()) {
			fmt.Fprintf(env.Stderr, "GitHub: %s\n", client.Identity())
			break
		}
	}
	return github.NewIntake(client), nil
}
