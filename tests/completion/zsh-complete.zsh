# zsh -f zsh-complete.zsh FPATH 'LINE': what zsh's completion system offers
# for LINE (as if TAB were pressed at its end), one match a line, "M:"
# before each; anything else it prints (an error of _arguments) comes out
# as it is.  An interactive zsh runs in a pty (zsh/zpty) with compinit and
# the completions of FPATH; compadd is wrapped to print what is added.
zmodload zsh/zpty || exit 70
tmp=$(mktemp -d) || exit 70
cat > $tmp/init <<'INIT'
PS1= PROMPT= RPROMPT= PROMPT2=
fpath=("$ZC_FPATH" $fpath)
autoload -U compinit && compinit -u -d "$ZC_TMP/dump"
bindkey '^I' complete-word
zc_mark() { print -r -- '<<ZC>>' }
compprefuncs=(zc_mark)
comppostfuncs=(zc_mark exit)
zstyle ':completion:*' insert-tab false
compadd() {
	# calls that only collect (-O, -A, -D) are the completion system's own
	if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
		builtin compadd "$@"
		return
	fi
	local -a zc_hits zc_p zc_pp zc_x
	zparseopts -E -a zc_x P:=zc_p p:=zc_pp
	builtin compadd -A zc_hits "$@"
	local h
	for h in $zc_hits; do print -r -- "M:${zc_pp[2]}${zc_p[2]}$h"; done
}
print -r -- '<<READY>>'
INIT
export ZC_FPATH=$1 ZC_TMP=$tmp
zpty z zsh -f -i
zpty -w z "source $tmp/init"
local line
integer n=0
while zpty -r z line; do
	[[ $line == '<<READY>>'* ]] && break
done
zpty -w z "$2"$'\t'
while zpty -r z line; do
	line=${line//$'\r'/}
	line=${line%$'\n'}
	if [[ $line == *'<<ZC>>'* ]]; then
		(( n++ )) && break
		continue
	fi
	(( n )) && [[ -n $line ]] && print -r -- "$line"
done
zpty -d z
rm -rf $tmp
(( n == 2 ))
