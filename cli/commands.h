/* commands.h - one entry point per subcommand (cli/cmd_<name>.c). */
#ifndef EV_COMMANDS_H
#define EV_COMMANDS_H

int cmd_init(int argc, char **argv);
int cmd_add(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_proof(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_amend(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_id(int argc, char **argv);
int cmd_contact(int argc, char **argv);
int cmd_share(int argc, char **argv);
int cmd_open(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_lockdown(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_store(int argc, char **argv);

#endif
