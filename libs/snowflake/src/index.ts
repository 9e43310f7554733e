export * from './snowflake.js';
