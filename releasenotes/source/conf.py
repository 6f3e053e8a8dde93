# SPDX-License-Identifier: Apache-2.0
#
# cinderlib release notes: built by reno from the notes under
# releasenotes/notes/ as they are committed in git.
#
#   tox -e releasenotes
#   sphinx-build -a -E -W -d releasenotes/build/doctrees -b html \
#       releasenotes/source releasenotes/build/html

# -- General configuration ------------------------------------------------

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

# openstackdocstheme: the repository and the bug tracker. The
# openstackdocs_* names are those of openstackdocstheme 2.0 and later; the
# older names are kept for the 1.x of Debian 12 (each version ignores the
# other's names).
openstackdocs_repo_name = 'openstack/cinderlib'
openstackdocs_bug_project = 'cinderlib'
openstackdocs_bug_tag = ''
openstackdocs_auto_name = False
repository_name = openstackdocs_repo_name
bug_project = openstackdocs_bug_project
bug_tag = openstackdocs_bug_tag

source_suffix = '.rst'
master_doc = 'index'

project = 'cinderlib Release Notes'
copyright = '2026, The cinderlib authors'

# Release notes are not versioned documents: reno gives each release its
# own section.
version = ''
release = ''

exclude_patterns = []
pygments_style = 'native'

# -- Options for HTML output ----------------------------------------------

html_theme = 'openstackdocs'
html_static_path = ['_static']
htmlhelp_basename = 'cinderlibReleaseNotesdoc'

# -- Options for Internationalization output ------------------------------

locale_dirs = ['locale/']
