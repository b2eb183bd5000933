function __evkit_queues
    set -l home $EVKIT_HOME
    test -n "$home"; or set home (set -q XDG_DATA_HOME; and echo $XDG_DATA_HOME; or echo $HOME/.local/share)/evkit
    for f in $home/queues/*.db
        basename $f .db
    end
end
complete -c evq-recv -f -a '(__evkit_queues)'
complete -c evq-recv -s n -l max -x -d 'At most N messages'
complete -c evq-recv -s w -l wait -x -d 'Wait up to S seconds for a message'
complete -c evq-recv -s f -l follow -d 'Keep receiving until killed'
complete -c evq-recv -s e -l envelope -d 'Print Lambda SQS records'
complete -c evq-recv -s l -l lease -x -d 'Lease for S seconds, print envelopes'
complete -c evq-recv -l peek -d 'Print without changing anything'
complete -c evq-recv -l ack -d 'Delete the messages of the handles read'
complete -c evq-recv -l release -d 'Make the messages of the handles read visible'
complete -c evq-recv -l endpoint-url -x -d "Send a remote queue's requests to URL"
complete -c evq-recv -l errors -r -F -d 'Record bad lines in FILE'
complete -c evq-recv -l max-line-bytes -x -d 'Longest line accepted'
complete -c evq-recv -l line-buffered -d 'Flush after every line'
complete -c evq-recv -s q -l quiet -d 'No warnings'
complete -c evq-recv -s h -l help -d 'Show help'
complete -c evq-recv -l version -d 'Show version'
