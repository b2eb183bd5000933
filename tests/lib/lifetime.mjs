// When a test server started by tests/lib/servers.bash ends: on SIGTERM,
// SIGINT or SIGHUP, at end of file on its stdin (the pipe the starting
// shell holds), or once process `parent` (--parent) is gone, so that a
// killed test run leaves no server behind.  stop(0) is called, perhaps
// more than once.
function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		return e.code === 'EPERM';
	}
}

export function stopWhenDone(stop, parent) {
	for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'])
		process.on(sig, () => stop(0));
	process.stdin.on('end', () => stop(0));
	process.stdin.on('error', () => stop(0));
	process.stdin.resume();
	if (parent > 0)
		setInterval(() => { if (!alive(parent)) stop(0); }, 500).unref();
}
