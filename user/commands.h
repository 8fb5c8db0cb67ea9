/* Subcommand entry points. Each takes the arguments after the command name
 * (argv[0] is the command name) and returns the process exit status. */
#ifndef AGENTMON_COMMANDS_H
#define AGENTMON_COMMANDS_H

int cmd_exec(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);

#endif
