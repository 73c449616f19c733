package netlab

import (
	"fmt"
	"os"
	"syscall"
)

// checkOwned refuses a plugin directory or binary that someone other than
// this user could have put there or can change: the lab runs the plugins
// as root, so a binary planted in a predictable path would run as root too.
func checkOwned(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot read its owner", path)
	}
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not by this user (uid %d); remove it or choose another directory", path, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %v); want it writable by its owner only", path, fi.Mode().Perm())
	}
	return nil
}
