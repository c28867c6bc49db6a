# bash completion for infabric (installed as share/bash-completion/completions/infabric).
# Commands and options come from the program's own help texts and scenario keys from
# `infabric check --list-keys`, so the completion cannot drift from what the binary accepts.
_infabric()
{
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    cmd=${COMP_WORDS[1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "run bench check help version --version" -- "$cur"))
        return
    fi
    case $prev in
        --set | --sweep)
            local keys
            keys=$("${COMP_WORDS[0]}" check --list-keys 2>/dev/null)
            compopt -o nospace 2>/dev/null
            COMPREPLY=($(compgen -W "$keys" -S = -- "$cur"))
            return ;;
        -o | --out | --timeline)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
    esac
    case $cmd in
        run | bench | check)
            if [[ $cur == -* ]]; then
                local opts
                opts=$("${COMP_WORDS[0]}" help "$cmd" 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
            else
                COMPREPLY=($(compgen -f -X '!*.yaml' -- "$cur") $(compgen -d -- "$cur"))
            fi ;;
        help)
            COMPREPLY=($(compgen -W "run bench check" -- "$cur")) ;;
    esac
}
complete -F _infabric infabric
