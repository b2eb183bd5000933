function __evkit_queues
    set -l home $EVKIT_HOME
    test -n "$home"; or set home (set -q XDG_DATA_HOME; and echo $XDG_DATA_HOME; or echo $HOME/.local/share)/evkit
    for f in $home/queues/*.db
        basename $f .db
    end
end
set -l cmds create set stat list purge redrive delete
complete -c evq-ctl -f
complete -c evq-ctl -n "not __fish_seen_subcommand_from $cmds" -a create -d 'Create a queue'
complete -c evq-ctl -n "not __fish_seen_subcommand_from $cmds" -a set -d 'Set attributes'
complete -c evq-ctl -n "not __fish_seen_subcommand_from $cmds" -a stat -d 'Print counts and attributes'
complete -c evq-ctl -n "not __fish_seen_subcommand_from $cmds" -a list -d 'List queues'
complete -c evq-ctl -n "not __fish_seen_subcommand_from $cmds" -a purge -d 'Delete every message'
complete -c evq-ctl -n "not __fish_seen_subcommand_from $cmds" -a redrive -d 'Move dead letters back'
complete -c evq-ctl -n "not __fish_seen_subcommand_from $cmds" -a delete -d 'Delete a queue'
complete -c evq-ctl -n "__fish_seen_subcommand_from set stat purge redrive delete" -a '(__evkit_queues)'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l fifo -d 'FIFO queue'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l content-dedup -d 'Content-based deduplication'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l visibility -x -d 'VisibilityTimeout'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l delay -x -d 'DelaySeconds'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l retention -x -d 'MessageRetentionPeriod'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l wait -x -d 'ReceiveMessageWaitTimeSeconds'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l max-message-bytes -x -d 'MaximumMessageSize'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l max-receives -x -d 'maxReceiveCount'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l dlq -x -a '(__evkit_queues)' -d 'Dead-letter queue'
complete -c evq-ctl -n "__fish_seen_subcommand_from create" -l replicas -x -a '1 2 3 4 5' -d "A nats:// queue's stream replicas"
complete -c evq-ctl -n "__fish_seen_subcommand_from redrive" -l to -x -a '(__evkit_queues)' -d 'Target queue'
complete -c evq-ctl -n "__fish_seen_subcommand_from $cmds" -l endpoint-url -x -d "Send a remote queue's requests to URL"
complete -c evq-ctl -s q -l quiet -d 'No warnings'
complete -c evq-ctl -l line-buffered -d 'Flush output after every line'
complete -c evq-ctl -s h -l help -d 'Show help'
complete -c evq-ctl -l version -d 'Show version'
