/**
 * ciGuard: run a build command under ci-guard in a Jenkins pipeline.
 *
 *   def result = ciGuard(command: 'docker compose build', timeout: 1800, maxAttempts: 4)
 *   echo "attempts: ${result.attempts}, failure class: ${result.failureClass}"
 *
 * Named parameters (only command is required):
 *   command       build command line, run with `sh -c`
 *   totalTimeout  deadline of the whole run, waits and remedies included: seconds or a
 *                 duration string ('80m', '1h20m')
 *   timeout       deadline of one attempt: seconds or a duration string ('25m')
 *   maxAttempts   attempts at most, the first included
 *   ladder        remedy stage per attempt: a list or a comma-separated string
 *   mirrors       candidate registry mirrors: a list or a comma-separated string
 *   retryOn       retry only these failures: failure classes, groups (network, registry,
 *                 daemon) or exit:N codes; a list or a comma-separated string
 *   retryWait     fixed wait between attempts, instead of the backoff: seconds or a
 *                 duration string ('1m')
 *   onRetryCommand  shell command run before each retry (sees CI_GUARD_ATTEMPT,
 *                 CI_GUARD_FAILURE_CLASS, CI_GUARD_EXIT_CODE...); its failure is a warning
 *   junit         JUnit report path (default junit.xml in the artifacts folder); false for none
 *   tempfailExitCode  exit code when attempts run out on a transient failure (default 75)
 *   extraArgs     more `ci-guard run` options: a list of strings, one per argument
 *   repository    ci-guard's git repository URL; with ref, pip installs git+repository@ref
 *   ref           the tag or commit of ci-guard to install
 *   installFrom   any other pip requirement to install instead (a local checkout, a wheel)
 *   ciGuard       the ci-guard executable to use when nothing is installed (default ci-guard)
 *   artifactsDir  folder for ci-guard's logs and reports (default WORKSPACE@tmp/ci-guard:
 *                 outside the workspace, so no Docker build context holds it)
 *   archive       archive the artifacts folder (default true; attempt logs are masked)
 *   secretEnv     more environment variables whose values are masked, a list or a
 *                 comma-separated string (credentials bindings with names lacking
 *                 TOKEN, PASS, KEY, SECRET, AUTH...); globs allowed
 *   failOnError   fail the stage when ci-guard exits non-zero (default true)
 *
 * Returns [exitCode: int, attempts: int, failureClass: String, stopReason: String, logFile: String], read
 * from the dotenv file ci-guard writes; the JUnit report is published with junit.
 */
Map call(Map params = [:]) {
    String command = params.command
    if (!command) {
        error('ciGuard: the command parameter is required')
    }
    String outDir = params.artifactsDir ?: "${workspaceTmp()}/ci-guard"
    String junitPath = params.junit == false ? '' : (params.junit ?: "${outDir}/junit.xml")
    if (params.extraArgs != null && !(params.extraArgs in Collection)) {
        error('ciGuard: extraArgs is a list of strings, one per argument')
    }
    String executable = installCiGuard(pipSpec(params), params.ciGuard as String)
    List<String> argv = runArguments(params, outDir, junitPath)
    argv = [executable] + argv + ['--', 'sh', '-c', command]
    int code = sh(script: shellLine(argv), returnStatus: true, label: 'ci-guard run')
    Map outputs = [:]
    // Steps inside dir() read and archive relative to the artifacts folder.
    dir(outDir) {
        outputs = parseDotenv(fileExists('ci-guard.env') ? readFile('ci-guard.env') : '')
        if (params.junit == null) {
            publishJunit('junit.xml')
        }
        if (params.archive != false) {
            archiveArtifacts(artifacts: '**', allowEmptyArchive: true)
        }
    }
    if (params.junit != null && params.junit != false) {
        publishJunit(junitPath)
    }
    Map result = [
        exitCode: code,
        attempts: (outputs.CI_GUARD_ATTEMPTS ?: '0') as int,
        failureClass: outputs.CI_GUARD_FAILURE_CLASS ?: '',
        stopReason: outputs.CI_GUARD_STOP_REASON ?: '',
        logFile: outputs.CI_GUARD_LOG_FILE ?: '',
    ]
    if (code != 0 && params.failOnError != false) {
        error("ci-guard: exit ${code} after ${result.attempts} attempt(s) (${result.failureClass ?: 'no class'})")
    }
    return result
}

// WORKSPACE@tmp: beside the workspace, never inside a build context.
String workspaceTmp() {
    return env.WORKSPACE_TMP ?: pwd(tmp: true)
}

void publishJunit(String path) {
    if (fileExists(path)) {
        junit(testResults: path, allowEmptyResults: true, skipMarkingBuildUnstable: true)
    }
}

String pipSpec(Map params) {
    if (params.installFrom) {
        return params.installFrom as String
    }
    if (params.repository && params.ref) {
        return "git+${params.repository}@${params.ref}"
    }
    if (params.repository || params.ref) {
        error('ciGuard: the repository and ref parameters go together')
    }
    return ''
}

// The virtualenv in the workspace's tmp folder is kept between builds on the same agent
// and reused while it holds the same requirement (pin a tag or a commit).
String installCiGuard(String spec, String executable) {
    if (!spec) {
        return executable ?: 'ci-guard'
    }
    String venv = "${workspaceTmp()}/ci-guard-venv"
    String marker = "${venv}/ci-guard-requirement.txt"
    if (fileExists(marker) && readFile(marker).trim() == spec) {
        return "${venv}/bin/ci-guard"
    }
    sh(script: shellLine(['rm', '-rf', venv]) + ' && ' + shellLine(['python3', '-m', 'venv', venv]),
        label: 'ci-guard venv')
    List<String> pip = ["${venv}/bin/python", '-m', 'pip', 'install', '--quiet', spec]
    sh(script: shellLine(pip), label: 'install ci-guard')
    writeFile(file: marker, text: spec)
    return "${venv}/bin/ci-guard"
}

@NonCPS
List<String> runArguments(Map params, String dir, String junitPath) {
    List<String> argv = ['run', '--ci', 'jenkins', '--artifacts-dir', dir]
    argv += ['--log-file', "${dir}/ci-guard.jsonl".toString()]
    argv += ['--tempfail-exit-code', (params.tempfailExitCode ?: 75).toString()]
    if (junitPath) {
        argv += ['--junit', junitPath]
    }
    if (params.secretEnv) {
        argv += ['--secret-env', [params.secretEnv].flatten().join(',')]
    }
    Map flags = [
        timeout: '--timeout', maxAttempts: '--max-attempts', totalTimeout: '--total-timeout',
        ladder: '--ladder', mirrors: '--mirrors',
        retryOn: '--retry-on', retryWait: '--retry-wait', onRetryCommand: '--on-retry-command',
    ]
    flags.each { String name, String flag ->
        Object value = params[name]
        if (value != null && value != '') {
            argv += [flag, [value].flatten().join(',')]
        }
    }
    for (Object extra in (params.extraArgs ?: [])) {
        argv << extra.toString()
    }
    return argv
}

@NonCPS
String shellLine(List<String> argv) {
    return argv.collect { String word -> "'" + word.replace("'", "'\"'\"'") + "'" }.join(' ')
}

@NonCPS
Map parseDotenv(String text) {
    Map values = [:]
    text.readLines().each { String line ->
        int equals = line.indexOf('=')
        if (equals > 0) {
            values[line.substring(0, equals).trim()] = line.substring(equals + 1).trim()
        }
    }
    return values
}
