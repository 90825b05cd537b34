# The npm registry reachable here does not serve chdb's macOS/arm64 engine packages, so npm leaves
# them out of the lock and `npm ci` then refuses the lock. Record them as optional, OS-bound entries.
import json, sys
p = sys.argv[1]
lock = json.load(open(p))
pk = lock['packages']
for name, cpu, os_ in [('@chdb/lib-darwin-arm64', 'arm64', 'darwin'), ('@chdb/lib-darwin-x64', 'x64', 'darwin'), ('@chdb/lib-linux-arm64-gnu', 'arm64', 'linux')]:
    key = 'node_modules/' + name
    if key not in pk:
        entry = {'version': pk['node_modules/@chdb/lib-linux-x64-gnu']['version'], 'cpu': [cpu], 'license': 'Apache-2.0', 'optional': True, 'os': [os_]}
        if os_ == 'linux': entry['libc'] = ['glibc']
        pk[key] = entry
lock['packages'] = dict(sorted(pk.items(), key=lambda kv: (kv[0] != '', kv[0])))
json.dump(lock, open(p, 'w'), indent=2)
open(p, 'a').write('\n')
