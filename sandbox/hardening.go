package sandbox

import (
	"fmt"

	"github.com/docker/docker/api/types/container"
)

// hardened applies what every container of ours gets, whatever it runs: a read-only root, no
// capabilities, no new privileges, no engine logs (output is read through the attach stream,
// capped) and a private IPC namespace.
func hardened(hc *container.HostConfig) *container.HostConfig {
	hc.ReadonlyRootfs = true
	hc.CapDrop = []string{"ALL"}
	hc.SecurityOpt = []string{"no-new-privileges"}
	hc.LogConfig = container.LogConfig{Type: "none"}
	hc.IpcMode = "private"
	return hc
}

// tmpfsOptions are the mount options of a /tmp: size-capped, nothing executable, no set-uid, no
// devices.
func tmpfsOptions(lim Limits) string {
	return fmt.Sprintf("size=%d,mode=1777,noexec,nosuid,nodev", lim.TmpBytes)
}
