//! A Spring Boot service's Maven layout, for the tests of `init` and of adopting shipgate
//! in a Java service: pom.xml with the Spring Boot parent (whose version must never move)
//! and the project's own version 1.3.0.

#![allow(dead_code)] // each test file uses its own subset

/// pom.xml: the parent spring-boot-starter-parent 3.3.4, the project orders 1.3.0, a
/// dependency with a version of its own.
pub const POM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>org.springframework.boot</groupId>
    <artifactId>spring-boot-starter-parent</artifactId>
    <version>3.3.4</version>
    <relativePath/>
  </parent>
  <groupId>com.example.shop</groupId>
  <artifactId>orders</artifactId>
  <version>1.3.0</version>
  <name>orders</name>
  <properties>
    <java.version>21</java.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.springframework.boot</groupId>
      <artifactId>spring-boot-starter-web</artifactId>
    </dependency>
    <dependency>
      <groupId>org.postgresql</groupId>
      <artifactId>postgresql</artifactId>
      <version>42.7.4</version>
    </dependency>
  </dependencies>
</project>
"#;

/// The application's main class, at `src/main/java/com/example/shop/orders/`.
pub const APP: &str = "package com.example.shop.orders;\n\nimport org.springframework.boot.SpringApplication;\nimport org.springframework.boot.autoconfigure.SpringBootApplication;\n\n@SpringBootApplication\npublic class OrdersApplication {\n    public static void main(String[] args) {\n        SpringApplication.run(OrdersApplication.class, args);\n    }\n}\n";
