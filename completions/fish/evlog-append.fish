# fish completion for evlog-append(1)
function __evlog_names
    set -l home $EVKIT_HOME
    test -n "$home"; or set home (test -n "$XDG_DATA_HOME"; and echo $XDG_DATA_HOME; or echo $HOME/.local/share)/evkit
    for d in $home/logs/*/
        basename $d
    end
end
complete -c evlog-append -s s -l stream -x -d 'Stream of every event'
complete -c evlog-append -l stream-from -x -d 'jq path to the stream'
complete -c evlog-append -l expect-version -x -a 'none any' -d 'Append only at this version'
complete -c evlog-append -s p -l print -d 'Print each stored record'
complete -c evlog-append -l fsync -x -a 'always batch never' -d 'When to sync'
complete -c evlog-append -l segment-bytes -x -d 'Segment size'
complete -c evlog-append -l lock-timeout -x -d 'Seconds to wait for a held lock'
complete -c evlog-append -l errors -r -F -d 'Record bad lines in FILE'
complete -c evlog-append -l max-line-bytes -x -d 'Longest input line'
complete -c evlog-append -l line-buffered -d 'Flush each record'
complete -c evlog-append -s q -l quiet -d 'No warnings'
complete -c evlog-append -s h -l help -d 'Print the usage'
complete -c evlog-append -l version -d 'Print the version'
complete -c evlog-append -a '(__evlog_names)' -d 'Log'
