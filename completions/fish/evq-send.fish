function __evkit_queues
    set -l home $EVKIT_HOME
    test -n "$home"; or set home (set -q XDG_DATA_HOME; and echo $XDG_DATA_HOME; or echo $HOME/.local/share)/evkit
    for f in $home/queues/*.db
        basename $f .db
    end
end
complete -c evq-send -f -a '(__evkit_queues)'
complete -c evq-send -s d -l delay -x -d 'Make messages visible after S seconds'
complete -c evq-send -s a -l attr -x -d 'Message attribute NAME[:TYPE]=VALUE'
complete -c evq-send -s g -l group-id -x -d 'FIFO message group id'
complete -c evq-send -s G -l group-from -x -d 'jq path to the group id'
complete -c evq-send -s D -l dedup-id -x -d 'FIFO deduplication id'
complete -c evq-send -l dedup-from -x -d 'jq path to the deduplication id'
complete -c evq-send -s p -l print-ids -d 'Print ids once committed'
complete -c evq-send -s r -l raw -d 'Lines are UTF-8 text, not JSON'
complete -c evq-send -s b -l batch -x -d 'Commit every N messages'
complete -c evq-send -l endpoint-url -x -d "Send a remote queue's requests to URL"
complete -c evq-send -l errors -r -F -d 'Record bad lines in FILE'
complete -c evq-send -l max-line-bytes -x -d 'Longest line accepted'
complete -c evq-send -l line-buffered -d 'Flush after every line'
complete -c evq-send -s q -l quiet -d 'No warnings'
complete -c evq-send -s h -l help -d 'Show help'
complete -c evq-send -l version -d 'Show version'
