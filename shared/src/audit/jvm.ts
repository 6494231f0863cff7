import type { V1Container } from '@kubernetes/client-node';
import { parseImageRef } from './image-ref.ts';

/** Images whose name says they run on a JVM. */
const JVM_IMAGE =
  /(^|[/_-])(openjdk|eclipse-temurin|temurin|amazoncorretto|corretto|adoptopenjdk|ibm-semeru-runtimes|semeru|zulu|zulu-openjdk|liberica|java|jdk|jre|sapmachine|kafka|cp-kafka|cp-server|zookeeper|cp-zookeeper|elasticsearch|opensearch|logstash|cassandra|solr|jenkins|tomcat|jetty|wildfly|keycloak|sonarqube|nexus3?|flink|spark|hadoop|hbase|neo4j|activemq|artemis|trino|presto|nifi)([/_:-]|$)/i;

/** Images that take long to start after a crash (index or log recovery), JVM or not. */
const SLOW_STARTER_IMAGE =
  /(^|[/_-])(kafka|cp-kafka|cp-server|zookeeper|cp-zookeeper|elasticsearch|opensearch|cassandra|solr|rabbitmq|mongo|mongodb|mysql|mariadb|postgres|postgresql|keycloak|jenkins|sonarqube|nexus3?|etcd|neo4j|clickhouse|influxdb)([/_:-]|$)/i;

/** Images whose tag is the Java major version (`openjdk:8-jre`, `eclipse-temurin:17`, `amazoncorretto:8`). */
const JAVA_VERSIONED_IMAGE =
  /(^|\/)(openjdk|eclipse-temurin|temurin|amazoncorretto|adoptopenjdk|ibm-semeru-runtimes|zulu-openjdk|azul\/zulu-openjdk|bellsoft\/liberica-openjdk-[a-z]+|liberica-openjdk-[a-z]+|sapmachine|java)$/i;

/** Environment variables that carry JVM options. */
export const JVM_OPTION_VARIABLES = [
  'JAVA_OPTS',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'KAFKA_HEAP_OPTS',
  'ES_JAVA_OPTS',
  'OPENSEARCH_JAVA_OPTS',
  'CATALINA_OPTS',
  'JVM_OPTS',
  'HEAP_OPTS',
];

/** Every piece of text a JVM could read options from: command, args and the option variables. */
function optionTexts(container: V1Container): string[] {
  const texts = [...(container.command ?? []), ...(container.args ?? [])];
  for (const variable of container.env ?? []) {
    if (JVM_OPTION_VARIABLES.includes(variable.name) && typeof variable.value === 'string')
      texts.push(variable.value);
  }
  return texts;
}

/** How a container says it runs a JVM, or undefined when nothing says so. */
export function jvmEvidence(container: V1Container): string | undefined {
  const image = container.image ?? '';
  const ref = parseImageRef(image);
  if (ref && JVM_IMAGE.test(ref.repository)) return `image ${image}`;
  const words = [...(container.command ?? []), ...(container.args ?? [])].join(' ');
  if (/(^|[\s/])java(\s|$)/.test(words) || /\s-jar\s/.test(` ${words} `)) return 'the command runs java';
  for (const variable of container.env ?? []) {
    if (JVM_OPTION_VARIABLES.includes(variable.name)) return `environment variable ${variable.name}`;
  }
  if (optionTexts(container).some((text) => /-Xmx|MaxRAMPercentage/.test(text))) return 'JVM heap options';
  return undefined;
}

/** True when the container's image is known to need a long time to start after a crash. */
export function isSlowStarter(container: V1Container): boolean {
  const ref = parseImageRef(container.image ?? '');
  return (
    jvmEvidence(container) !== undefined || (ref !== undefined && SLOW_STARTER_IMAGE.test(ref.repository))
  );
}

const HEAP_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

/** What bounds the heap: a fixed `-Xmx` in bytes, or a share of the memory limit (MaxRAMPercentage). */
export type HeapSetting =
  | { kind: 'fixed'; bytes: number; text: string }
  | { kind: 'percent'; percent: number; text: string };

/** The heap setting the container passes to its JVM; the last one wins, as the JVM reads them. */
export function heapSetting(container: V1Container): HeapSetting | undefined {
  let found: HeapSetting | undefined;
  for (const text of optionTexts(container)) {
    for (const match of text.matchAll(/-Xmx(\d+)([kKmMgGtT]?)\b|-XX:MaxRAMPercentage=(\d+(?:\.\d+)?)/g)) {
      if (match[1] !== undefined) {
        const unit = HEAP_UNITS[(match[2] ?? '').toLowerCase()] ?? 1;
        found = { kind: 'fixed', bytes: Number(match[1]) * unit, text: match[0] };
      } else {
        found = { kind: 'percent', percent: Number(match[3]), text: match[0] };
      }
    }
  }
  return found;
}

/** The Java major version an image tag names (`8`, `1.8`, `8u392`, `11-jre`), for images versioned by Java. */
export function javaVersionOfImage(image: string): number | undefined {
  const ref = parseImageRef(image);
  if (!ref?.tag || !JAVA_VERSIONED_IMAGE.test(ref.repository)) return undefined;
  const match = /^(?:1\.)?(\d+)(?:$|[.u_-])/.exec(ref.tag);
  if (!match) return undefined;
  const version = Number(match[1]);
  return version >= 1 && version < 100 ? version : undefined;
}
