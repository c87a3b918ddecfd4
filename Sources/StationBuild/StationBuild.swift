// The program as built and as started: `BuildInfo` (version and commit) is generated into this module by
// the StampBuild plugin (Plugins/StampBuild) at every build; `ProcessArguments` are its arguments.
