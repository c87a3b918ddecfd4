// The build's stamp: `BuildInfo` (version and commit) is generated into this module by the StampBuild
// plugin (Plugins/StampBuild) at every build.
