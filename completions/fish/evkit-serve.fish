# fish completion for evkit-serve(1)
complete -c evkit-serve -f
complete -c evkit-serve -s l -l listen -x -d 'Listen on [ADDR:]PORT'
complete -c evkit-serve -l rules -r -F -d "The default event bus's rules file"
complete -c evkit-serve -s F -l function -x -d 'Bind a Lambda function: NAME=URI (exec:, worker:, jq:, url:, runtime:)'
complete -c evkit-serve -s m -l machine -x -d 'Create a state machine: NAME=FILE'
complete -c evkit-serve -l report -r -F -d 'Append per-request timings to FILE'
complete -c evkit-serve -l check-signatures -d 'Verify SigV4 signatures'
complete -c evkit-serve -l line-buffered -d 'Accepted, as by every command'
complete -c evkit-serve -s q -l quiet -d 'No access log'
complete -c evkit-serve -s h -l help -d 'Print the usage'
complete -c evkit-serve -l version -d 'Print the version'
