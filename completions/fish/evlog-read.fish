# fish completion for evlog-read(1)
function __evlog_read_names
    set -l home $EVKIT_HOME
    test -n "$home"; or set home (test -n "$XDG_DATA_HOME"; and echo $XDG_DATA_HOME; or echo $HOME/.local/share)/evkit
    for d in $home/logs/*/
        basename $d
    end
end
complete -c evlog-read -s e -l events -d 'Print the bare events'
complete -c evlog-read -s s -l stream -x -d 'Only this stream'
complete -c evlog-read -l from -x -d 'From this seq'
complete -c evlog-read -l from-version -x -d 'From this version of the stream'
complete -c evlog-read -l since -x -d 'Records appended at or after TIME'
complete -c evlog-read -l until -x -d 'Stop after TIME'
complete -c evlog-read -s f -l follow -d 'Wait for new records'
complete -c evlog-read -l fold -x -d 'Reduce the events with a jq program'
complete -c evlog-read -l init -x -d 'Initial state for --fold'
complete -c evlog-read -l verify -d 'Check every CRC, seq and version'
complete -c evlog-read -l lock-timeout -x -d 'Seconds to wait for a held lock'
complete -c evlog-read -l line-buffered -d 'Flush each line'
complete -c evlog-read -s q -l quiet -d 'No warnings'
complete -c evlog-read -s h -l help -d 'Print the usage'
complete -c evlog-read -l version -d 'Print the version'
complete -c evlog-read -a '(__evlog_read_names)' -d 'Log'
