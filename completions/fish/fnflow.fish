complete -c fnflow -s j -l jobs -x -d 'Run up to N executions at once'
complete -c fnflow -s e -l envelope -d "Print DescribeExecution's envelope"
complete -c fnflow -s f -l function -x -d 'Bind a function NAME to a URI'
complete -c fnflow -l rules -r -F -d 'Route events:putEvents through a rules FILE'
complete -c fnflow -l endpoint-url -x -d "Send remote queues' and buses' requests to URL"
complete -c fnflow -l state-machine-arn -x -d "The state machine's ARN"
complete -c fnflow -l type -x -a 'STANDARD EXPRESS' -d 'The execution type'
complete -c fnflow -s n -l name -x -d 'The execution name'
complete -c fnflow -l time-scale -x -d 'Multiply every Wait and Retry interval by F'
complete -c fnflow -l history -r -F -d 'Append every history event to the event log LOG'
complete -c fnflow -l resume -d 'Finish the executions of the history that have not ended'
complete -c fnflow -l errors -r -F -d 'Record bad lines in FILE'
complete -c fnflow -l max-line-bytes -x -d 'Longest line accepted'
complete -c fnflow -l line-buffered -d 'Flush after every line'
complete -c fnflow -s q -l quiet -d 'No warnings'
complete -c fnflow -s h -l help -d 'Show help'
complete -c fnflow -l version -d 'Show version'
