const { src, dest } = require('gulp');

// Icons and codex files are not compiled by tsc. `encoding: false` keeps gulp 5 from
// re-encoding them as UTF-8, which corrupts any binary icon.
function copyIcons() {
	return src(['nodes/**/*.{png,svg,json}', 'credentials/**/*.{png,svg}'], {
		base: '.',
		encoding: false,
	}).pipe(dest('dist'));
}

exports['build:icons'] = copyIcons;
