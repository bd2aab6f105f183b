package webhook

import (
	"fmt"
	"regexp"

	"github.com/google/go-github/v60/github"
)

// Events the grader acts on; every other event is acknowledged and ignored.
const (
	EventPush                     = "push"
	EventInstallation             = "installation"
	EventInstallationRepositories = "installation_repositories"
)

var commitSHA = regexp.MustCompile(`^(?:[0-9a-f]{40}|[0-9a-f]{64})$`)

// zeroSHA is what a push that deleted its ref points at.
var zeroSHA = regexp.MustCompile(`^0+$`)

// parse reads a delivery's payload: ok is false for an event the grader ignores; an error
// means a payload that does not hold what its event promises.
func parse(event string, payload []byte) (Delivery, bool, error) {
	switch event {
	case EventPush, EventInstallation, EventInstallationRepositories:
	default:
		return Delivery{}, false, nil
	}
	parsed, err := github.ParseWebHook(event, payload)
	if err != nil {
		return Delivery{}, false, fmt.Errorf("%s payload: %w", event, err)
	}
	var d Delivery
	switch e := parsed.(type) {
	case *github.PushEvent:
		d, err = push(e)
	case *github.InstallationEvent:
		d = installation(e)
	case *github.InstallationRepositoriesEvent:
		d = installationRepositories(e)
	}
	d.Event = event
	return d, err == nil, err
}

func push(e *github.PushEvent) (Delivery, error) {
	d := Delivery{Installation: e.GetInstallation().GetID(), Repository: e.GetRepo().GetFullName(), Ref: e.GetRef(), Deleted: e.GetDeleted()}
	if d.Repository == "" || d.Ref == "" {
		return Delivery{}, fmt.Errorf("push payload: no repository full_name or ref")
	}
	after := e.GetAfter()
	switch {
	case d.Deleted || zeroSHA.MatchString(after):
		d.Deleted = true
	case commitSHA.MatchString(after):
		d.SHA = after
	default:
		return Delivery{}, fmt.Errorf("push payload: after %q is not a commit SHA", after)
	}
	return d, nil
}

// installation: "created" gives the App the listed repositories, "deleted" takes them away;
// suspend, unsuspend and new_permissions_accepted change neither list.
func installation(e *github.InstallationEvent) Delivery {
	d := Delivery{Action: e.GetAction(), Installation: e.GetInstallation().GetID()}
	switch d.Action {
	case "created":
		d.Added = fullNames(e.Repositories)
	case "deleted":
		d.Removed = fullNames(e.Repositories)
	}
	return d
}

func installationRepositories(e *github.InstallationRepositoriesEvent) Delivery {
	return Delivery{Action: e.GetAction(), Installation: e.GetInstallation().GetID(),
		Added: fullNames(e.RepositoriesAdded), Removed: fullNames(e.RepositoriesRemoved)}
}

func fullNames(repos []*github.Repository) []string {
	var out []string
	for _, r := range repos {
		if n := r.GetFullName(); n != "" {
			out = append(out, n)
		}
	}
	return out
}
