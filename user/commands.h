/* Subcommand entry points. Each takes the arguments after the command name
 * (argv[0] is the command name) and returns the process exit status. */
#ifndef AGENTMON_COMMANDS_H
#define AGENTMON_COMMANDS_H

int cmd_exec(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* the daemon's clients (cmd_client.c) */
int cmd_tail(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_freeze(int argc, char **argv);
int cmd_thaw(int argc, char **argv);
int cmd_kill(int argc, char **argv);

#endif
